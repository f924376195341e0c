// The web page of `squeezenet serve` in a real headless browser (Debian's chromium, driven by playwright-core):
// upload a real image, check that the top class and the class activation map appear, save a screenshot.
// Usage: NODE_PATH=bench/node_modules node tests/browser/serve_page.js [SCREENSHOT.png]
//   (npm packages: cd bench && npm install --ignore-scripts; chromium: scripts/install_deps.sh --bench)
const {spawn} = require('child_process');
const path = require('path');
const {chromium} = require('playwright-core');

const root = path.join(__dirname, '..', '..');
const data = process.env.SQUEEZENET_DATA || path.join(root, '..', 'shared', 'data');
const cli = process.env.SQUEEZENET_CLI || path.join(root, 'build', 'squeezenet');
const weights = path.join(data, 'pnnx-ncnn-torchvision-squeezenet1.1-fp16', 'squeezenet_v1.1.ncnn.param');
const image = path.join(data, 'imagenet-sample-1000', 'n02099601_golden_retriever.JPEG');
const screenshot = process.argv[2] || path.join(root, 'docs', 'serve_page.png');

function startServer() {
  const server = spawn(cli, ['serve', '--weights', `sq11=${weights}`, '--port', '0', '--no-access-log'],
                       {stdio: ['ignore', 'ignore', 'pipe']});
  return new Promise((resolve, reject) => {
    server.stderr.on('data', (chunk) => {
      const m = /listening on (http:\/\/\S+)/.exec(chunk.toString());
      if (m) resolve({server, url: m[1]});
    });
    server.on('exit', (code) => reject(new Error(`squeezenet serve exited with ${code}`)));
  });
}

async function main() {
  const {server, url} = await startServer();
  const browser = await chromium.launch({executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
                                         args: ['--no-sandbox']});
  try {
    const page = await browser.newPage({viewport: {width: 1000, height: 640}});
    await page.goto(url);
    await page.waitForSelector('#model option', {state: 'attached'});
    await page.setInputFiles('#file', image);
    await page.waitForSelector('#top .name', {timeout: 30000});
    const top = await page.textContent('#top .name');
    if (top !== 'golden retriever') throw new Error(`top class shown: '${top}', expected 'golden retriever'`);
    await page.waitForFunction(() => {
      const cam = document.getElementById('cam');
      return !cam.hidden && cam.complete && cam.naturalWidth > 0;
    }, null, {timeout: 30000});
    const latency = await page.textContent('#latency');
    if (!/latency [\d.]+ ms/.test(latency)) throw new Error(`no latency shown: '${latency}'`);
    await page.screenshot({path: screenshot});
    console.log(`ok: top class '${top}', ${latency}; screenshot ${screenshot}`);
  } finally {
    await browser.close();
    server.kill('SIGTERM');
  }
}

main().catch((e) => {
  console.error(`serve_page.js: ${e.message}`);
  process.exit(1);
});
