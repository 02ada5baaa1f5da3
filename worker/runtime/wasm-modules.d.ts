/** `.wasm` imports are compiled modules in workerd (wrangler rule CompiledWasm). */
declare module "*.wasm" {
  const module: WebAssembly.Module;
  export default module;
}
