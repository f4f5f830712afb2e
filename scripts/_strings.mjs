import { gzipSync } from 'node:zlib';
import { build } from 'vite';
const output = await build({ configFile: false, logLevel: 'silent', define: { 'process.env.NODE_ENV': '"production"' },
  build: { write: false, minify: true, target: 'es2022', lib: { entry: process.argv[2] ?? 'src/sw/index.ts', formats: ['iife'], name: 'b', fileName: () => 'b.js' } } });
const chunk = (Array.isArray(output) ? output : [output]).flatMap(o => o.output).find(c => c.type === 'chunk');
const code = chunk.code;
const strs = code.match(/`(?:[^`\\]|\\.)*`|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g) ?? [];
const total = strs.reduce((n, s) => n + s.length, 0);
console.log('min', code.length, 'gz', gzipSync(code, {level:9}).length, 'strings', strs.length, 'chars', total);
const stripped = code.replace(/`(?:[^`\\]|\\.)*`|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, (s) => s.length > 20 ? '""' : s);
console.log('long strings emptied: gz', gzipSync(stripped, {level:9}).length);
const long = strs.filter(s => s.length > 20).sort((a,b)=>b.length-a.length);
console.log(long.length, long.reduce((n,s)=>n+s.length,0));
for (const s of long.slice(0, 400)) console.log(s.length, s.slice(0, 140));
if (process.argv[3]) (await import('node:fs')).writeFileSync(process.argv[3], code);
