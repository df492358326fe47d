/**
 * A JSON object line cut at max_line_bytes (a 5 MB Django record: a huge message, a huge exc_info), made whole again
 * so that it is read as the record it is — its @timestamp, level and logger kept — rather than shipped as a
 * fragment of JSON text tagged as a parse error.
 *
 * The members complete before the cut are kept as they are; a string value cut short keeps the part that arrived
 * (its last escape sequence dropped if it was cut inside one); a key, number or literal cut short is dropped; open
 * objects and arrays are closed. What came after the cut is gone: the record is tagged `_logship_truncated`.
 *
 * Runs only on lines the splitter truncated (rare), once each: it may allocate.
 */

const OBJECT = 1;
const ARRAY = 2;

/** The text of `cut`, a JSON object truncated anywhere, made into valid JSON; null when it is not one. */
export function repairTruncatedJson(cut: string): string | null {
  if (cut.charCodeAt(0) !== 123 /* { */) return null;
  /** Open containers, innermost last. */
  const stack: number[] = [];
  /**
   * Per open container: the end of its content that is complete (just after its "{" or "[", or after its last
   * complete member or element). Cutting the text there and closing leaves valid JSON.
   */
  const safe: number[] = [];
  /** In an object: is the next string a key (true) or a value (false)? */
  let expectKey = false;
  let i = 0;
  const n = cut.length;
  // States between tokens are tracked just enough to know where complete values end.
  while (i < n) {
    const c = cut.charCodeAt(i);
    if (c === 123 || c === 91) {
      stack.push(c === 123 ? OBJECT : ARRAY);
      safe.push(i + 1);
      expectKey = c === 123;
      i++;
      continue;
    }
    if (c === 125 || c === 93) {
      stack.pop();
      safe.pop();
      i++;
      if (stack.length === 0) return i === n || cut.slice(i).trim() === '' ? cut.slice(0, i) : null;
      valueDone(i);
      continue;
    }
    if (c === 34 /* " */) {
      const isKey = stack[stack.length - 1] === OBJECT && expectKey;
      const close = stringEnd(cut, i + 1);
      if (close < 0) {
        // Cut inside this string.
        if (isKey) return close0(cut, safe, stack);
        return closeString(cut, i, stack);
      }
      i = close + 1;
      if (isKey) expectKey = false;
      else valueDone(i);
      continue;
    }
    if (c === 44 /* , */) {
      if (stack[stack.length - 1] === OBJECT) expectKey = true;
      i++;
      continue;
    }
    if (c === 58 /* : */ || c === 32 || c === 9 || c === 10 || c === 13) {
      i++;
      continue;
    }
    // A number, true, false or null: complete only if something follows it.
    let e = i;
    while (e < n && !',}] \t\r\n'.includes(cut.charAt(e))) e++;
    if (e === n) break;
    i = e;
    valueDone(i);
  }
  return close0(cut, safe, stack);

  function valueDone(at: number): void {
    if (safe.length > 0) safe[safe.length - 1] = at;
  }
}

/** Index of the quote that ends the string whose text starts at `from`, or -1 when the text ends first. */
function stringEnd(s: string, from: number): number {
  let i = from;
  for (;;) {
    const q = s.indexOf('"', i);
    if (q < 0) return -1;
    let backslashes = 0;
    for (let b = q - 1; b >= from && s.charCodeAt(b) === 92; b--) backslashes++;
    if (backslashes % 2 === 0) return q;
    i = q + 1;
  }
}

/** Cut back to the innermost complete content, then close every open container. */
function close0(cut: string, safe: number[], stack: number[]): string | null {
  if (stack.length === 0) return null;
  let text = cut.slice(0, safe[safe.length - 1]!);
  for (let k = stack.length - 1; k >= 0; k--) text += stack[k] === OBJECT ? '}' : ']';
  return text;
}

/** A value string cut short: keep what arrived (without a half escape sequence), close it and every container. */
function closeString(cut: string, quoteAt: number, stack: number[]): string {
  let end = cut.length;
  // A trailing "\" or an incomplete "\uXXXX" is half an escape: drop it.
  const tail = cut.slice(Math.max(quoteAt + 1, end - 6));
  const esc = tail.lastIndexOf('\\');
  if (esc >= 0) {
    let backslashes = 0;
    const at = end - tail.length + esc;
    for (let b = at; b > quoteAt && cut.charCodeAt(b) === 92; b--) backslashes++;
    if (backslashes % 2 === 1) {
      const rest = cut.slice(at + 1);
      if (rest === '' || (rest.charAt(0) === 'u' && rest.length < 5)) end = at;
    }
  }
  // A lone high surrogate at the end (a character cut in two by the decoder) is not valid in JSON text either.
  const last = cut.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  let text = cut.slice(0, end) + '"';
  for (let k = stack.length - 1; k >= 0; k--) text += stack[k] === OBJECT ? '}' : ']';
  return text;
}
