import { readFileSync } from "node:fs";
import { ClipEdgeError } from "../../conditioning/errors.ts";

/**
 * The calibration prompts `prepare`'s accuracy guard ships with: 64
 * diffusion-style prompts written for this tool (not taken from any data
 * set), varied in subject, style keywords, length (one word to past the
 * 77-token limit), punctuation, numbers, non-ASCII text and weighting syntax.
 */
export const BUILTIN_CALIBRATION_PROMPTS: readonly string[] = [
  "a lighthouse on a cliff at sunset, oil painting",
  "dog",
  "a bowl of ramen with a soft boiled egg, food photography, shallow depth of field",
  "isometric pixel art of a tiny wizard's workshop",
  "portrait of a woman with freckles, natural window light, 85mm, kodak portra 400",
  "a futuristic city skyline at night, neon reflections on wet streets, cyberpunk",
  "watercolor sketch of a fox sleeping under a maple tree",
  "macro photo of a dew drop on a spider web",
  "an astronaut playing chess with a robot on the moon",
  "minimalist logo of a mountain and a river, flat vector, two colors",
  "a medieval castle in the clouds, matte painting, epic scale",
  "close-up of an old man's hands holding a pocket watch",
  "3d render of a glossy red sports car on a white background, studio lighting",
  "a quiet library with tall wooden shelves and dust in the sunbeams",
  "children's book illustration of a bear baking bread",
  "street photography, rainy tokyo crossing, umbrellas, long exposure",
  "A knight in ornate silver armor, highly detailed, dramatic rim light, 8k",
  "blueprint diagram of a steam engine",
  "a cup of coffee",
  "surreal landscape with melting clocks and floating islands",
  "anime style girl with blue hair standing in a field of sunflowers",
  "aerial view of a winding river through an autumn forest",
  "neon sign that says 'OPEN 24 HOURS' in a dark alley",
  "a cat wearing a tiny wizard hat, digital art",
  "the interior of a spaceship cockpit, cinematic, volumetric lighting, unreal engine",
  "ancient greek marble statue of a discus thrower, museum photo",
  "two hummingbirds drinking from a red flower",
  "(masterpiece:1.2), best quality, ultra detailed, a dragon coiled around a tower",
  "low poly model of a tree",
  "stained glass window depicting a phoenix rising from flames",
  "a snowy cabin in the woods with warm light in the windows, christmas card",
  "product shot of wireless headphones on a marble table",
  "an infographic about the water cycle",
  "a bustling marketplace in marrakech, spices and lanterns, golden hour",
  "Mount Fuji reflected in a lake, cherry blossoms, ukiyo-e woodblock print",
  "zebra",
  "a steampunk owl made of brass gears and copper wire",
  "underwater coral reef with a sea turtle, crystal clear water",
  "pencil sketch of a cathedral facade, architectural drawing",
  "a plate of sushi: salmon, tuna, and avocado rolls",
  "l'arc de triomphe sous la pluie, photographie en noir et blanc",
  "東京の夜景, ネオン, 雨",
  "a robot painting a self-portrait in a sunlit studio",
  "top-down view of a board game with colorful pieces, 1970s",
  "vintage travel poster for Mars colonies, art deco",
  "a single red balloon floating over a grey city",
  "hyperrealistic eye with a galaxy in the iris",
  "a dense jungle temple overgrown with vines, indiana jones style adventure scene, morning mist",
  "emoji of a smiling avocado",
  "a wolf howling at a full moon, black and white linocut",
  "the number 42 painted on a brick wall",
  "fashion editorial, model in a yellow raincoat, brutalist architecture background",
  "a cozy reading nook with a cat, rain on the window, lofi aesthetic",
  "chalkboard drawing of the solar system with labels",
  "knolling photo of camping gear arranged neatly on a wooden floor",
  "a small sailboat in a storm, huge waves, lightning, romantic era painting",
  "ice cream cone melting in the desert heat, surreal photo",
  "technical cutaway illustration of a jet engine, labeled parts, high resolution",
  "a crowd at a music festival at dusk, confetti, wide angle",
  "ceramic vase with blue floral patterns, still life, soft shadows",
  "an elephant made of clouds walking across the sky",
  "a highly detailed fantasy map of an archipelago with mountains, forests, rivers, cities, roads, a compass rose, sea monsters in the margins, old parchment texture, hand lettered names, coffee stains, torn edges, trending on artstation, intricate, elegant, sharp focus, illustration, concept art by several artists",
  "!!!",
  "a tiny house on wheels parked by a lake, spring morning, film photo",
];

/**
 * Reads `--calibration FILE`: JSON Lines of `{"text": "..."}` objects, or plain
 * text with one prompt per line (a file whose first non-empty line starts
 * with `{` is read as JSON Lines). Empty lines are skipped.
 */
export function readCalibrationFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ClipEdgeError("invalid_input", `--calibration ${path}: cannot read the file`, {
      cause: error,
    });
  }
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  if (lines.length === 0) {
    throw new ClipEdgeError("invalid_input", `--calibration ${path}: the file has no prompts`);
  }
  if (!lines[0].trimStart().startsWith("{")) return lines;
  return lines.map((line, i) => {
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch (error) {
      throw new ClipEdgeError(
        "invalid_input",
        `--calibration ${path}: line ${i + 1} is not valid JSON`,
        { cause: error },
      );
    }
    const t = (row as { text?: unknown } | null)?.text;
    if (typeof t !== "string") {
      throw new ClipEdgeError(
        "invalid_input",
        `--calibration ${path}: line ${i + 1} has no string "text" field`,
      );
    }
    return t;
  });
}
