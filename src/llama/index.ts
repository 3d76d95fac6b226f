export { type CudaMode, ensureLlamaServerBinary, LlamaBuildError, type LlamaServerBinary } from "./build.js";
export { CliUsageError, runLlamaCommand, runNodeCommand } from "./cli.js";
export { type GgufFile, GgufFormatError, readGguf } from "./gguf-reader.js";
export { type F32Tensor, type GgufDocument, writeGguf } from "./gguf-writer.js";
export { NODE_LLAMA_CPP_VERSION, resolveCacheDir, tinyModelPath } from "./paths.js";
export { type PreparedLlama, prepareTinyLlama } from "./prepare.js";
export {
  type ExitInfo,
  type LlamaServerHandle,
  type LlamaServerOptions,
  LlamaServerStartError,
  startLlamaServer,
} from "./server.js";
export { ensureLlamaSource, type LlamaSource } from "./source.js";
export {
  BENCH_MODEL_SHAPE,
  buildTinyModel,
  DEFAULT_TINY_MODEL_SEED,
  ensureTinyModelFile,
  TINY_MODEL_SHAPE,
  TINY_MODEL_SIZES,
  type TinyModelSize,
} from "./tiny-model.js";
