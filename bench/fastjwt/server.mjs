// SPDX-License-Identifier: Apache-2.0
// The alternative tokend's issue names: one Node.js process verifying HS256
// tokens with fast-jwt, its verification cache on, answering tokend's wire
// protocol (docs/protocol.md: PING and VALIDATE) on a Unix socket, so that
// tokend-bench drives it exactly as it drives tokend. Like tokend with
// --threads 1, it has one event loop; like tokend's loops, it answers every
// complete frame of one read with one write.
//
// Usage: node server.mjs --socket PATH --key FILE   (the raw key file)
import { createVerifier } from 'fast-jwt';
import fs from 'node:fs';
import net from 'node:net';

function arg(name) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0 || i + 1 >= process.argv.length) {
    console.error(`server.mjs: --${name} is required`);
    process.exit(2);
  }
  return process.argv[i + 1];
}

const socketPath = arg('socket');
const key = fs.readFileSync(arg('key'));
const verify = createVerifier({ key, algorithms: ['HS256'], cache: true, cacheTTL: 600000 });

const HEADER = 12;
const MAX_BODY = 65536;
const ALG = { HS256: 1, HS384: 2, HS512: 3 };
// fast-jwt error codes to docs/protocol.md statuses; anything else is MALFORMED.
const STATUS = {
  FAST_JWT_INVALID_SIGNATURE: 2,
  FAST_JWT_INVALID_ALGORITHM: 4,
  FAST_JWT_EXPIRED: 5,
  FAST_JWT_INACTIVE: 6,
  FAST_JWT_MISSING_REQUIRED_CLAIM: 11,
};

function header(bodyLen, version, opcode, id) {
  const h = Buffer.alloc(HEADER);
  h.writeUInt32LE(bodyLen, 0);
  h[4] = version;
  h[5] = opcode;
  h.writeUInt32LE(id, 8);
  return h;
}

function validate(body, id) {
  const tokenLen = body.readUInt16LE(0);
  const token = body.toString('latin1', 4, 4 + tokenLen);
  let status = 0, alg = 0, exp = 0n, sub = Buffer.alloc(0);
  try {
    const payload = verify(token);
    alg = ALG.HS256;
    exp = BigInt(Math.trunc(payload.exp ?? 0));
    if (typeof payload.sub === 'string') sub = Buffer.from(payload.sub, 'utf8');
  } catch (e) {
    status = STATUS[e.code] ?? 1;
  }
  const out = Buffer.alloc(HEADER + 16 + sub.length);
  header(16 + sub.length, 1, 1, id).copy(out, 0);
  out[HEADER] = status;
  out[HEADER + 1] = alg;
  out.writeUInt16LE(sub.length, HEADER + 2);
  out.writeBigInt64LE(exp, HEADER + 4);
  out.writeUInt32LE(0, HEADER + 12);
  sub.copy(out, HEADER + 16);
  return out;
}

const server = net.createServer((conn) => {
  let pending = Buffer.alloc(0);
  conn.on('data', (chunk) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    const replies = [];
    let pos = 0;
    while (pending.length - pos >= HEADER) {
      const bodyLen = pending.readUInt32LE(pos);
      const version = pending[pos + 4];
      const opcode = pending[pos + 5];
      const id = pending.readUInt32LE(pos + 8);
      const bad = version !== 1 || (opcode !== 1 && opcode !== 2) || bodyLen > MAX_BODY;
      if (!bad && pending.length - pos < HEADER + bodyLen) break;
      const body = pending.subarray(pos + HEADER, pos + HEADER + bodyLen);
      if (bad || (opcode === 1 && (bodyLen < 4 ||
                                   body.readUInt16LE(0) + body.readUInt16LE(2) + 4 !== bodyLen))) {
        replies.push(Buffer.concat([header(1, version, opcode, id), Buffer.from([255])]));
        conn.end(Buffer.concat(replies));
        pending = Buffer.alloc(0);
        return;
      }
      replies.push(opcode === 2 ? header(0, 1, 2, id) : validate(body, id));
      pos += HEADER + bodyLen;
    }
    pending = pending.subarray(pos);
    if (replies.length) conn.write(replies.length === 1 ? replies[0] : Buffer.concat(replies));
  });
  conn.on('error', () => {});
});

fs.rmSync(socketPath, { force: true });
server.listen(socketPath, () => console.error(`server.mjs: listening on ${socketPath}`));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
