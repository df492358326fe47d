/** The file sink's validated config; the config loader fills the defaults. */
export interface FileSinkConfig {
  type: 'file';
  /** File that receives one JSON document per line (NDJSON). Its directory is created. */
  path: string;
  /** Rotate before a write would make the file larger than this. @default 104857600 (100 MiB) */
  maxBytes: number;
  /** Rotated files kept: path.1 (newest) … path.<maxFiles> (oldest); older ones are removed. @default 5 */
  maxFiles: number;
  /** Permission bits of the files the sink creates, set exactly (whatever the umask). @default 0o640 */
  mode: number;
}
