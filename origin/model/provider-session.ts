/**
 * Opens an onnxruntime-node session on the configured execution provider. `cuda` falls back
 * to CPU, with one clear log line, when the CUDA provider cannot start (the CUDA provider
 * libraries are not installed - onnxruntime-node's npm package ships CPU only -, CUDA or
 * cuDNN are missing or mismatched, or there is no GPU). See docs/origin.md, "GPU host".
 */
import type { AdaptedSession } from "../../node/runtime/adapt-session.ts";
import type { OrtNodeSessionOptions } from "../../node/runtime/ort-node-session.ts";

export type Provider = "cuda" | "cpu";

export type CreateSession = (
  model: Uint8Array | string,
  options: OrtNodeSessionOptions,
) => Promise<AdaptedSession>;

export interface ProviderSessionOptions {
  provider: Provider;
  createSession: CreateSession;
  /** CUDA device ordinal (default 0). */
  deviceId?: number;
  intraOpNumThreads?: number;
  label?: string;
  log?: (line: string) => void;
}

export interface ProviderSession {
  session: AdaptedSession;
  /** The provider actually in use. */
  provider: Provider;
}

export async function openProviderSession(
  model: Uint8Array | string,
  options: ProviderSessionOptions,
): Promise<ProviderSession> {
  const log = options.log ?? ((line: string) => console.error(line));
  const label = options.label ?? (typeof model === "string" ? model : "onnx model");
  const common = {
    label,
    ...(options.intraOpNumThreads ? { intraOpNumThreads: options.intraOpNumThreads } : {}),
  };
  if (options.provider === "cuda") {
    try {
      const session = await options.createSession(model, {
        ...common,
        executionProviders: [{ name: "cuda", deviceId: options.deviceId ?? 0 }],
      });
      log(`origin: ${label}: running on CUDA device ${options.deviceId ?? 0}`);
      return { session, provider: "cuda" };
    } catch (error) {
      const reason = ((error as Error).message ?? String(error)).split("\n")[0];
      log(
        `origin: ${label}: CUDA execution provider could not start (${reason}); falling back to CPU. Install the onnxruntime-node CUDA 12 binaries, CUDA 12 and cuDNN 9 (docs/origin.md, "GPU host").`,
      );
    }
  }
  const session = await options.createSession(model, { ...common, executionProviders: ["cpu"] });
  log(`origin: ${label}: running on CPU`);
  return { session, provider: "cpu" };
}
