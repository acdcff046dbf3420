// Copies of strings cut out of larger ones. V8 makes a slice of 13 characters or more a view that keeps
// the whole text it was cut from alive: a category or a time read in place from a chunk of many lines
// would keep the chunk (64 KiB or more) for as long as it is kept. Whatever outlives its line is copied
// with detachedCopy first.

/** Characters copied per String.fromCharCode call (well under any engine's limit on arguments). */
const PIECE = 4096;

/** The same characters in a string that holds them itself, referring to no other string. */
export function detachedCopy(text: string): string {
  let copy = '';
  for (let at = 0; at < text.length; at += PIECE) {
    const end = Math.min(text.length, at + PIECE);
    const codes = new Array<number>(end - at);
    for (let i = at; i < end; i++) codes[i - at] = text.charCodeAt(i);
    copy += String.fromCharCode(...codes);
  }
  return copy;
}
