// SPDX-License-Identifier: Apache-2.0
// Prints the grpc.health.v1.Health status of SERVICE on SOCKET (SERVING,
// NOT_SERVING, ...), as Node's @grpc/grpc-js reads it; exit code 1 on an
// RPC error.
//
//   node health_check.mjs --socket PATH --health DIR [--service NAME]
import { parseArgs } from 'node:util';

import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';

const { values: args } = parseArgs({
  options: {
    socket: { type: 'string' },
    health: { type: 'string' },
    service: { type: 'string', default: '' },
  },
});
const def = protoLoader.loadSync('grpc/health/v1/health.proto', {
  enums: String,
  defaults: true,
  includeDirs: [args.health],
});
const Health = grpc.loadPackageDefinition(def).grpc.health.v1.Health;
const client = new Health(`unix:${args.socket}`, grpc.credentials.createInsecure());
client.Check({ service: args.service }, { deadline: Date.now() + 5000 }, (err, res) => {
  client.close();
  if (err) {
    console.log(`error ${err.code} ${err.details}`);
    process.exitCode = 1;
    return;
  }
  console.log(res.status);
});
