// The smallest usual way to serve ONNX Runtime over HTTP without Triton, for bench/serve_load.sh to compare
// against: Node's http, sharp to decode and resize, onnxruntime-node, one session, one request per run.
// Usage: node ort_server.js MODEL.onnx PORT THREADS    (POST /classify with a JPEG/PNG body -> JSON top-5)
const http = require('http');
const ort = require('onnxruntime-node');
const sharp = require('sharp');

const MEAN = [0.485, 0.456, 0.406], STD = [0.229, 0.224, 0.225];

async function toTensor(bytes) {
  // torchvision's preset: shorter side to 256, centre 224 crop, /255, ImageNet mean and std, NCHW.
  const resized = sharp(bytes).removeAlpha().resize(256, 256, {fit: 'outside'});
  const {data, info} = await resized.raw().toBuffer({resolveWithObject: true});
  const left = Math.round((info.width - 224) / 2), top = Math.round((info.height - 224) / 2);
  const x = new Float32Array(3 * 224 * 224);
  for (let y = 0; y < 224; y++)
    for (let c = 0; c < 224; c++)
      for (let k = 0; k < 3; k++)
        x[k * 224 * 224 + y * 224 + c] = (data[((y + top) * info.width + c + left) * 3 + k] / 255 - MEAN[k]) / STD[k];
  return new ort.Tensor('float32', x, [1, 3, 224, 224]);
}

async function main() {
  const [model, port, threads] = process.argv.slice(2);
  sharp.concurrency(1);
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: Number(threads), interOpNumThreads: 1, graphOptimizationLevel: 'all'});
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      try {
        const out = await session.run({input: await toTensor(Buffer.concat(chunks))});
        const logits = Array.from(Object.values(out)[0].data);
        const top = logits.map((v, i) => [v, i]).sort((a, b) => b[0] - a[0]).slice(0, 5).map(([v, i]) => ({index: i, logit: v}));
        res.writeHead(200, {'Content-Type': 'application/json'});
        res.end(JSON.stringify({top}));
      } catch (e) {
        res.writeHead(400, {'Content-Type': 'application/json'});
        res.end(JSON.stringify({error: String(e.message || e)}));
      }
    });
  });
  server.listen(Number(port), '127.0.0.1', () => console.error(`ort_server listening on ${port}`));
}

main().catch((e) => { console.error(e); process.exit(1); });
