// bench.js - the npm `qrcode` package on the same URLs as bench/qr_ref.c:
// URLs (one a line) on stdin, each rendered with
// QRCode.toString(url, {type: 'svg', errorCorrectionLevel: 'M'}) one
// after another on one core. Prints "node_qrcode codes_per_s=N".
'use strict';
const fs = require('fs');
const QRCode = require('qrcode');

async function main() {
  const urls = fs.readFileSync(0, 'utf8').split(/\r?\n/).filter((u) => u);
  if (urls.length === 0) {
    console.error('bench.js: no URLs on stdin');
    process.exit(1);
  }
  const opts = { type: 'svg', errorCorrectionLevel: 'M' };
  let bytes = 0;  // kept so the result cannot be optimised away
  const t0 = process.hrtime.bigint();
  for (const url of urls)
    bytes += (await QRCode.toString(url, opts)).length;
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  if (bytes === 0)
    process.exit(1);
  console.log(`node_qrcode codes_per_s=${Math.round(urls.length / secs)}`);
}

main().catch((e) => { console.error(e); process.exit(1); });
