/** Python logging Formatter strings: read (tokens.ts), their datefmt (datefmt.ts), compiled to a line matcher. */
export { compileFormat, CompiledFormat, FormatterError, type FormatterSpec } from './compile.js';
export { FORMAT_STYLES, type FormatStyle } from './tokens.js';
