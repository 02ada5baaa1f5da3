/**
 * GPT-2 / CLIP `bytes_to_unicode`: a reversible map from the 256 byte values to printable
 * characters (printable Latin-1 bytes map to themselves, the rest to U+0100..U+0143).
 */
export function bytesToUnicode(): string[] {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const table = new Array<string>(256);
  for (const b of printable) table[b] = String.fromCharCode(b);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (table[b] === undefined) table[b] = String.fromCharCode(256 + n++);
  }
  return table;
}

/** Inverse of `bytesToUnicode`: symbol char code -> byte (-1 where none). */
export function unicodeToBytes(table: readonly string[]): Int16Array {
  const inverse = new Int16Array(512).fill(-1);
  table.forEach((char, byte) => {
    inverse[char.charCodeAt(0)] = byte;
  });
  return inverse;
}
