/**
 * The fields of a text record's first line: what a detected layout (layouts.ts) or a compiled Formatter string
 * (formatter/compile.ts) reads from it. A parser keeps two and swaps them (the line being tried, the record held), so
 * nothing is allocated for them per line; every field is always present, so the object keeps one shape.
 */
export class Header {
  /** The record's time as ISO 8601 with an offset; null when the line has none that reads. */
  timestamp: string | null = null;
  level: string | undefined = undefined;
  logger: string | undefined = undefined;
  /** log.origin.file.name: `filename`, else `module`. */
  originName: string | undefined = undefined;
  originLine: number | undefined = undefined;
  originFunction: string | undefined = undefined;
  pid: number | undefined = undefined;
  threadId: number | undefined = undefined;
  threadName: string | undefined = undefined;
  /** Members of the document's `django` object as JSON text ('"k":v,…'), '' for none. */
  django = '';
  /** The message's first line: the text after the header. */
  message = '';

  clear(): this {
    this.timestamp = null;
    this.level = this.logger = this.originName = this.originFunction = this.threadName = undefined;
    this.originLine = this.pid = this.threadId = undefined;
    this.django = '';
    this.message = '';
    return this;
  }
}
