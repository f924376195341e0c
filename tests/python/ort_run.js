// Runs an .onnx file in ONNX Runtime (npm onnxruntime-node) on a raw little-endian float32 tensor:
//   node ort_run.js MODEL.onnx INPUT.bin N,C,H,W OUTPUT.bin
// and writes its first output the same way. Finds the module through NODE_PATH (the tests set bench/node_modules).
const fs = require("fs");
const ort = require("onnxruntime-node");

async function main() {
  const [model, input, shape, output] = process.argv.slice(2);
  const dims = shape.split(",").map(Number);
  const data = new Float32Array(new Uint8Array(fs.readFileSync(input)).buffer);
  const session = await ort.InferenceSession.create(model);
  const feeds = {[session.inputNames[0]]: new ort.Tensor("float32", data, dims)};
  const out = (await session.run(feeds))[session.outputNames[0]];
  fs.writeFileSync(output, Buffer.from(out.data.buffer, out.data.byteOffset, out.data.byteLength));
  console.log(`${session.inputNames[0]} -> ${session.outputNames[0]} ${JSON.stringify(out.dims)}`);
}

main().catch((e) => {
  console.error(`${process.argv[2]}: ${e.message}`);
  process.exit(1);
});
