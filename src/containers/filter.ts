/**
 * Which containers an input ships: `containers: { include: [...], exclude: [...] }`.
 *
 * A container is shipped when (there is no include, or it matches one) and it matches no exclude. An entry matches
 * when every key it gives matches: `{name: "web*", label: "tier=front"}` needs both. Keys, by input type:
 *   docker: name (without the leading "/"), image (the reference as written, or its name without tag/digest),
 *           label ("key=value glob", or "key": the label is set)
 *   cri:    namespace, pod, container (the Kubernetes container name)
 * Globs: `*` is any run of characters, "/" and ":" included (`docker.elastic.co/*` matches every image of that
 * registry), `?` one character; everything else stands for itself, case-sensitive.
 *
 * A container whose facts are unknown (no config.v2.json, a path of neither Kubernetes form) has no name, image,
 * labels or pod: it matches no entry. So it is shipped by an input without include, and not by one with include.
 */

/** One entry as configured (validated by the config schema for the input's type). */
export interface ContainerMatchConfig {
  readonly name?: string;
  readonly image?: string;
  readonly label?: string;
  readonly namespace?: string;
  readonly pod?: string;
  readonly container?: string;
}

export interface ContainerFilterConfig {
  readonly include: readonly ContainerMatchConfig[];
  readonly exclude: readonly ContainerMatchConfig[];
}

/** What a filter can look at. Every field absent means unknown. */
export interface ContainerFacts {
  readonly name?: string;
  /** The image reference as written, and the same without tag or digest. */
  readonly image?: string;
  readonly imageName?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly namespace?: string;
  readonly pod?: string;
  readonly container?: string;
}

type Test = (facts: ContainerFacts) => boolean;

/** A compiled filter: made once per input, from its config. */
export interface ContainerFilter {
  readonly include: readonly Test[];
  readonly exclude: readonly Test[];
}

/** Keys an entry may give, per input type. */
export const MATCH_KEYS = {
  docker: ['name', 'image', 'label'],
  cri: ['namespace', 'pod', 'container'],
} as const;

/** A glob (see the header) as a full-match test. */
export function globTest(glob: string): (text: string) => boolean {
  if (!glob.includes('*') && !glob.includes('?')) return (text) => text === glob;
  let source = '^';
  for (const ch of glob) {
    source += ch === '*' ? '[\\s\\S]*' : ch === '?' ? '[\\s\\S]' : ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  const re = new RegExp(source + '$', 'u');
  return (text) => re.test(text);
}

/** `key=value glob` → a test of a label set; `key` alone → the label is set (any value). */
function labelTest(spec: string): (labels: Readonly<Record<string, string>>) => boolean {
  const eq = spec.indexOf('=');
  if (eq < 0) return (labels) => Object.hasOwn(labels, spec);
  const key = spec.slice(0, eq);
  const value = globTest(spec.slice(eq + 1));
  return (labels) => Object.hasOwn(labels, key) && value(labels[key]!);
}

function compileEntry(entry: ContainerMatchConfig): Test {
  const tests: Test[] = [];
  if (entry.name !== undefined) {
    const t = globTest(entry.name);
    tests.push((f) => f.name !== undefined && t(f.name));
  }
  if (entry.image !== undefined) {
    const t = globTest(entry.image);
    tests.push((f) => (f.image !== undefined && t(f.image)) || (f.imageName !== undefined && t(f.imageName)));
  }
  if (entry.label !== undefined) {
    const t = labelTest(entry.label);
    tests.push((f) => f.labels !== undefined && t(f.labels));
  }
  if (entry.namespace !== undefined) {
    const t = globTest(entry.namespace);
    tests.push((f) => f.namespace !== undefined && t(f.namespace));
  }
  if (entry.pod !== undefined) {
    const t = globTest(entry.pod);
    tests.push((f) => f.pod !== undefined && t(f.pod));
  }
  if (entry.container !== undefined) {
    const t = globTest(entry.container);
    tests.push((f) => f.container !== undefined && t(f.container));
  }
  // An entry without keys is refused by the config schema; if one got here it would match everything.
  return (f) => tests.every((t) => t(f));
}

export function compileContainerFilter(config: ContainerFilterConfig): ContainerFilter {
  return { include: config.include.map(compileEntry), exclude: config.exclude.map(compileEntry) };
}

/** Is a container with these facts (null: unknown) shipped by this filter? Pure. */
export function containerSelected(facts: ContainerFacts | null, filter: ContainerFilter): boolean {
  const f = facts ?? {};
  if (filter.include.length > 0 && !filter.include.some((t) => t(f))) return false;
  return !filter.exclude.some((t) => t(f));
}
