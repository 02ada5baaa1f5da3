export function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export const MB = 1024 * 1024;

/** Bytes -> MiB, one decimal. */
export function toMb(bytes: number): number {
  return round(bytes / MB, 1);
}
