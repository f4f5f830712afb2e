import { gzipSync } from 'node:zlib';
import { build } from 'vite';
const output = await build({ configFile: false, logLevel: 'silent', define: { 'process.env.NODE_ENV': '"production"' },
  build: { write: false, minify: false, target: 'es2022', lib: { entry: process.argv[2] ?? 'src/sw/index.ts', formats: ['es'], fileName: () => 'b.js' } } });
const chunk = (Array.isArray(output) ? output : [output]).flatMap(o => o.output).find(c => c.type === 'chunk');
const rows = Object.entries(chunk.modules).map(([id, m]) => [id.replace(/.*node_modules\//, 'nm/').replace(/.*\/src\//, 'src/'), m.renderedLength, m.code ? gzipSync(m.code).length : 0]);
rows.sort((a, b) => b[1] - a[1]);
for (const r of rows) console.log(String(r[1]).padStart(7), String(r[2]).padStart(6), r[0]);
