// FIFO-PIPE-1 (note, not a deviation): Node ignores SIGPIPE in its own process at start-up, so
// the suite cannot see whether a library on Node would die of it.
const line = require('fs').readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('SigIgn'));
const ignored = (BigInt('0x' + line.split(/\s+/)[1]) >> 12n) & 1n;
console.log(ignored ? 'REPRODUCED: SIGPIPE is ignored by the runtime (SigIgn bit 13)' : 'NOT REPRODUCED');
process.exit(ignored ? 0 : 1);
