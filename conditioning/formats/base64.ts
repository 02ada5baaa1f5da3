/**
 * The project's one base64 codec: standard base64 (RFC 4648, with padding) on top of the
 * platform's `btoa` / `atob` (web globals in workerd, Node and browsers alike).
 */

const CHUNK = 0x8000;

/** Standard base64 of bytes. */
export function encodeBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += CHUNK) {
    binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  }
  return btoa(binary);
}

/**
 * Decodes standard or URL-safe base64 (`-`/`_`); padding optional, whitespace ignored.
 * Throws on any other character.
 */
export function decodeBase64(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "").replace(/-/g, "+").replace(/_/g, "/");
  const unpadded = clean.replace(/={1,2}$/, "");
  if (!/^[A-Za-z0-9+/]*$/.test(unpadded) || unpadded.length % 4 === 1) {
    throw new Error(`base64: invalid input (${text.length} characters)`);
  }
  const binary = atob(unpadded.padEnd(unpadded.length + ((4 - (unpadded.length % 4)) % 4), "="));
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}
