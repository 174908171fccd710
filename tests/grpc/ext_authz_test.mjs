// SPDX-License-Identifier: Apache-2.0
// tokend's gRPC front, spoken to by a client tokend did not write: Node's
// @grpc/grpc-js, with @grpc/proto-loader loading Envoy's own protos from
// third_party/envoy-api. Run by tests/integration/grpc_test.cc against a real
// daemon started with --audience api --audience billing:
//
//   node ext_authz_test.mjs --socket PATH --tokens FILE --api DIR --health DIR
//
// FILE is JSON of tokens minted by the C++ side: valid (sub alice, aud
// api), expired, tampered, billing (aud billing), other_aud (aud other),
// bad_subject (sub with a newline). Exit code 0 when every case passes.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { parseArgs } from 'node:util';

import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';

const { values: args } = parseArgs({
  options: {
    socket: { type: 'string' },
    tokens: { type: 'string' },
    api: { type: 'string' },
    health: { type: 'string' },
  },
});
const tokens = JSON.parse(fs.readFileSync(args.tokens, 'utf8'));
const loaderOptions = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };
const authDef = protoLoader.loadSync('envoy/service/auth/v3/external_auth.proto', {
  ...loaderOptions,
  includeDirs: [args.api],
});
const healthDef = protoLoader.loadSync('grpc/health/v1/health.proto', {
  ...loaderOptions,
  includeDirs: [args.health],
});
const Authorization = grpc.loadPackageDefinition(authDef).envoy.service.auth.v3.Authorization;
const Health = grpc.loadPackageDefinition(healthDef).grpc.health.v1.Health;
const target = `unix:${args.socket}`;

const UNAUTHENTICATED = 16;
const INVALID_ARGUMENT = 3;

function call(client, request, deadlineMs = 10000) {
  return new Promise((resolve, reject) => {
    client.Check(request, { deadline: Date.now() + deadlineMs }, (err, res) =>
      err ? reject(err) : resolve(res),
    );
  });
}

// A CheckRequest as Envoy sends it: lower-case headers, :path with the query.
function checkRequest({ headers = {}, path = '/orders', ext = {}, raw = false } = {}) {
  const all = { ':method': 'GET', ':path': path, ':authority': 'shop', ...headers };
  const http = { method: 'GET', path, host: 'shop' };
  if (raw) {
    http.header_map = {
      headers: Object.entries(all).map(([key, v]) => ({ key, raw_value: Buffer.from(v) })),
    };
  } else {
    http.headers = all;
  }
  return { attributes: { request: { http }, context_extensions: ext } };
}

function headerMap(options) {
  const m = {};
  for (const o of options) m[o.header.key] = o.header.value;
  return m;
}

function expectAllowed(res, subject = 'alice') {
  assert.equal(res.status.code, 0, JSON.stringify(res.status));
  assert.equal(res.http_response, 'ok_response');
  const h = headerMap(res.ok_response.headers);
  assert.equal(h['x-auth-subject'], subject);
  assert.match(h['x-auth-expires'], /^[0-9]+$/);
  for (const o of res.ok_response.headers) {
    // Overwrite, never append to, what the client sent.
    assert.equal(o.append_action, 'OVERWRITE_IF_EXISTS_OR_ADD');
  }
  // google.protobuf.Struct: proto-loader keeps the well-known types'
  // camelCase names.
  const md = res.dynamic_metadata.fields;
  assert.equal(md.subject.stringValue, subject);
  assert.equal(md.expires.numberValue, Number(h['x-auth-expires']));
  return h;
}

function expectDenied(res, reason) {
  assert.equal(res.status.code, UNAUTHENTICATED, JSON.stringify(res.status));
  assert.equal(res.status.message, reason);
  assert.equal(res.http_response, 'denied_response');
  assert.equal(res.denied_response.status.code, 'Unauthorized');
  const h = headerMap(res.denied_response.headers);
  assert.equal(h['x-ext-auth-reason'], reason);
  if (reason === 'MISSING_TOKEN') {
    assert.equal(h['www-authenticate'], 'Bearer realm="tokend"');
  } else {
    assert.equal(
      h['www-authenticate'],
      `Bearer realm="tokend", error="invalid_token", error_description="${reason}"`,
    );
  }
}

const bearer = (t) => ({ authorization: `Bearer ${t}` });

describe('Authorization/Check', () => {
  let client;
  before(() => {
    client = new Authorization(target, grpc.credentials.createInsecure());
  });
  after(() => client.close());

  test('a valid token is allowed with subject, expiry and metadata', async () => {
    const now = Math.floor(Date.now() / 1000);
    const h = expectAllowed(await call(client, checkRequest({ headers: bearer(tokens.valid) })));
    assert.ok(Number(h['x-auth-expires']) >= now + 590);
    assert.equal(h['x-auth-claims'], undefined);
    const res = await call(client, checkRequest({ headers: bearer(tokens.valid) }));
    assert.deepEqual(res.ok_response.headers_to_remove, ['x-auth-claims']);
  });

  test('expired, tampered and malformed tokens are refused by name', async () => {
    expectDenied(await call(client, checkRequest({ headers: bearer(tokens.expired) })), 'EXPIRED');
    expectDenied(
      await call(client, checkRequest({ headers: bearer(tokens.tampered) })),
      'BAD_SIGNATURE',
    );
    expectDenied(await call(client, checkRequest({ headers: bearer('not-a-jwt') })), 'MALFORMED');
  });

  test('a subject that cannot travel as a header is refused', async () => {
    expectDenied(
      await call(client, checkRequest({ headers: bearer(tokens.bad_subject) })),
      'MALFORMED',
    );
  });

  test('no token is denied with MISSING_TOKEN', async () => {
    expectDenied(await call(client, checkRequest()), 'MISSING_TOKEN');
    expectDenied(
      await call(client, checkRequest({ headers: { authorization: `Basic ${tokens.valid}` } })),
      'MISSING_TOKEN',
    );
    expectDenied(await call(client, checkRequest({ headers: { 'dapr-api-token': '' } })), 'MISSING_TOKEN');
  });

  test('each token source', async () => {
    expectAllowed(await call(client, checkRequest({ headers: { 'dapr-api-token': tokens.valid } })));
    expectAllowed(await call(client, checkRequest({ headers: { accesstoken: tokens.valid } })));
    expectAllowed(
      await call(client, checkRequest({ path: `/orders?x=1&accessToken=${tokens.valid}#f` })),
    );
    expectAllowed(
      await call(client, checkRequest({ headers: bearer(tokens.valid), raw: true })),
    );
    // Authorization comes first: a bad bearer is not rescued by a good query.
    expectDenied(
      await call(
        client,
        checkRequest({ headers: bearer(tokens.expired), path: `/?accessToken=${tokens.valid}` }),
      ),
      'EXPIRED',
    );
  });

  test('a bad accessToken query is INVALID_ARGUMENT and 400', async () => {
    for (const path of ['/?accessToken=%zz', `/?accessToken=${tokens.valid}&accessToken=x`]) {
      const res = await call(client, checkRequest({ path }));
      assert.equal(res.status.code, INVALID_ARGUMENT);
      assert.equal(res.denied_response.status.code, 'BadRequest');
    }
  });

  test('the audience extension chooses only among the configured audiences', async () => {
    // No extension: any configured audience.
    expectAllowed(await call(client, checkRequest({ headers: bearer(tokens.billing) })));
    expectDenied(
      await call(client, checkRequest({ headers: bearer(tokens.other_aud) })),
      'AUDIENCE_MISMATCH',
    );
    // Narrowed to one of them.
    expectAllowed(
      await call(client, checkRequest({ headers: bearer(tokens.billing), ext: { audience: 'billing' } })),
    );
    expectDenied(
      await call(client, checkRequest({ headers: bearer(tokens.valid), ext: { audience: 'billing' } })),
      'AUDIENCE_MISMATCH',
    );
    // Widened: refused, even for a token of that audience.
    expectDenied(
      await call(client, checkRequest({ headers: bearer(tokens.other_aud), ext: { audience: 'other' } })),
      'AUDIENCE_MISMATCH',
    );
  });

  test('the claims extension adds x-auth-claims', async () => {
    const h = expectAllowed(
      await call(client, checkRequest({ headers: bearer(tokens.valid), ext: { claims: 'true' } })),
    );
    const claims = JSON.parse(Buffer.from(h['x-auth-claims'], 'base64url').toString('utf8'));
    assert.equal(claims.sub, 'alice');
    assert.equal(claims.aud, 'api');
    const bad = await call(client, checkRequest({ headers: bearer(tokens.valid), ext: { claims: 'yes' } }));
    assert.equal(bad.status.code, INVALID_ARGUMENT);
  });

  test('many concurrent calls on several channels', async () => {
    const clients = Array.from(
      { length: 4 },
      (_, i) =>
        new Authorization(target, grpc.credentials.createInsecure(), {
          'grpc.use_local_subchannel_pool': 1,
          'grpc.channel_id': i,
        }),
    );
    try {
      const calls = [];
      for (let i = 0; i < 2000; i++) {
        const c = clients[i % clients.length];
        const good = i % 3 !== 0;
        calls.push(
          call(c, checkRequest({ headers: bearer(good ? tokens.valid : tokens.expired) })).then(
            (res) => (good ? expectAllowed(res) : expectDenied(res, 'EXPIRED')),
          ),
        );
      }
      await Promise.all(calls);
    } finally {
      for (const c of clients) c.close();
    }
  });

  test('clients that open streams and never read do not stall the others', async () => {
    const serialize = authDef['envoy.service.auth.v3.Authorization'].Check.requestSerialize;
    const message = serialize(checkRequest({ headers: bearer(tokens.valid) }));
    const frame = Buffer.alloc(5 + message.length);
    frame.writeUInt32BE(message.length, 1);
    message.copy(frame, 5);
    // HTTP/2 with a zero receive window, never read: the answers can never
    // be sent.
    const stuck = [];
    for (let s = 0; s < 4; s++) {
      const session = http2.connect('http://tokend', {
        createConnection: () => net.connect(args.socket),
        settings: { initialWindowSize: 0 },
      });
      session.on('error', () => {});
      for (let i = 0; i < 50; i++) {
        const stream = session.request({
          ':method': 'POST',
          ':path': '/envoy.service.auth.v3.Authorization/Check',
          'content-type': 'application/grpc',
          te: 'trailers',
        });
        stream.on('error', () => {});
        stream.pause();
        stream.end(frame);
      }
      stuck.push(session);
    }
    // And raw connections that say nothing.
    const silent = [];
    for (let i = 0; i < 20; i++) {
      const s = net.connect(args.socket);
      s.on('error', () => {});
      s.pause();
      silent.push(s);
    }
    const c = new Authorization(target, grpc.credentials.createInsecure());
    try {
      await new Promise((r) => setTimeout(r, 300));
      const t0 = Date.now();
      for (let i = 0; i < 200; i++) {
        expectAllowed(await call(c, checkRequest({ headers: bearer(tokens.valid) }), 5000));
      }
      assert.ok(Date.now() - t0 < 20000);
      // The stuck sessions are still open: the daemon did not give up on
      // them, it just answered everyone else.
      for (const s of stuck) assert.equal(s.destroyed, false);
    } finally {
      c.close();
      for (const s of stuck) s.destroy();
      for (const s of silent) s.destroy();
    }
  });
});

describe('grpc.health.v1.Health', () => {
  test('the server and the Authorization service are SERVING', async () => {
    const client = new Health(target, grpc.credentials.createInsecure());
    try {
      for (const service of ['', 'envoy.service.auth.v3.Authorization']) {
        const res = await new Promise((resolve, reject) =>
          client.Check({ service }, { deadline: Date.now() + 5000 }, (e, r) =>
            e ? reject(e) : resolve(r),
          ),
        );
        assert.equal(res.status, 'SERVING', service);
      }
    } finally {
      client.close();
    }
  });
});
