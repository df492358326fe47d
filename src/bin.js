#!/usr/bin/env node
// The `logship` command (package.json "bin": dist/cli.js). tsc compiles src/ to dist/src/; this shim is copied to
// dist/cli.js by the build so the published path stays what users and scripts call.
import './src/cli.js';
