/** Small JPEG data URIs of images, for the self-contained HTML report. */

/** The part of sharp this uses (passed in, as node/image does). */
export type SharpLike = (input: string | Uint8Array) => {
  rotate(): ReturnType<SharpLike>;
  resize(options: { width: number; height: number; fit: "inside" }): ReturnType<SharpLike>;
  flatten(options: { background: string }): ReturnType<SharpLike>;
  jpeg(options: { quality: number }): ReturnType<SharpLike>;
  toBuffer(): Promise<Uint8Array>;
};

/** A `data:image/jpeg;base64,...` thumbnail at most `size` pixels a side, or undefined if unreadable. */
export async function thumbnailDataUri(
  sharp: SharpLike,
  file: string,
  size = 128,
): Promise<string | undefined> {
  try {
    const jpeg = await sharp(file)
      .rotate()
      .resize({ width: size, height: size, fit: "inside" })
      .flatten({ background: "#ffffff" })
      .jpeg({ quality: 70 })
      .toBuffer();
    return `data:image/jpeg;base64,${Buffer.from(jpeg).toString("base64")}`;
  } catch {
    return undefined;
  }
}
