// ONNX Runtime's forward latency, for bench/peers.py: prints one JSON line {"seconds": [...]}.
// Usage: node ort_bench.js MODEL.onnx BATCH THREADS ITERS INPUT
const ort = require('onnxruntime-node');

async function main() {
  const [model, batch, threads, iters, input] = process.argv.slice(2);
  const n = Number(batch), side = Number(input);
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: Number(threads),
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
  });
  const data = new Float32Array(n * 3 * side * side);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i) * 2;  // any input: speed does not depend on it
  const x = new ort.Tensor('float32', data, [n, 3, side, side]);
  for (let i = 0; i < 2; i++) await session.run({input: x});
  const seconds = [];
  for (let i = 0; i < Number(iters); i++) {
    const start = process.hrtime.bigint();
    await session.run({input: x});
    seconds.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  console.log(JSON.stringify({seconds}));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
