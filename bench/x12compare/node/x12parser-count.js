// Reads an X12 file as a stream through the npm x12-parser package
// (X12parser transform stream) and counts the segments it emits.
// Usage: NODE_PATH=<prefix>/node_modules node x12parser-count.js FILE
// Prints one JSON line: {"parser":"x12-parser","version":...,"segments":N,"bytes":B,"ns":T}
// T is measured with process.hrtime.bigint() from opening the stream to the
// parser's 'end' event: module loading and Node start-up are excluded.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { X12parser } = require('x12-parser');

const file = process.argv[2];
if (!file) {
  console.error('usage: x12parser-count.js FILE');
  process.exit(2);
}
let version = 'unknown';
try {
  const pkg = require.resolve('x12-parser/package.json');
  version = JSON.parse(fs.readFileSync(pkg, 'utf8')).version;
} catch (e) {
  // x12-parser's "exports" may hide package.json; find it next to the entry point.
  try {
    let dir = path.dirname(require.resolve('x12-parser'));
    while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
    version = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
  } catch (e2) {}
}

const bytes = fs.statSync(file).size;
let segments = 0;
const start = process.hrtime.bigint();
const parser = new X12parser();
parser.on('error', (err) => {
  console.error(err);
  process.exit(1);
});
parser.on('data', (seg) => {
  if (seg.name) segments++;
});
parser.on('end', () => {
  const ns = process.hrtime.bigint() - start;
  console.log(JSON.stringify({ parser: 'x12-parser', version, segments, bytes, ns: Number(ns) }));
});
const input = fs.createReadStream(file);
input.on('error', (err) => {
  console.error(err);
  process.exit(1);
});
input.pipe(parser);
