// The SDK's own wire, no mock: AWS_ENDPOINT_URL_EC2 (the SDK's endpoint override) sends our calls
// to a loopback server of the test's own, signed with the profile's credentials, and nothing of
// ours overrides it; a profile that is not there fails in the user's words before any call.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsClients } from './aws-clients.js';
import { describeInstance } from './ec2-instances.js';

const INSTANCE = 'i-0aaaaaaaaaaaaaaaa';
const savedEnv = { ...process.env };
let dir: string;
let server: Server;
const seen: { body: string; authorization: string }[] = [];

function body(request: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => resolve(text));
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'onggi-aws-endpoint-'));
  await writeFile(join(dir, 'config'), '[profile sandbox]\nregion = eu-central-1\n');
  await writeFile(join(dir, 'credentials'), '[sandbox]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = secret-example\n');
  server = createServer((request, response) => {
    void body(request).then((text) => {
      seen.push({ body: text, authorization: String(request.headers.authorization ?? '') });
      response.setHeader('content-type', 'text/xml');
      response.end(
        `<?xml version="1.0" encoding="UTF-8"?><DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId>` +
          `<reservationSet><item><reservationId>r-1</reservationId><instancesSet><item><instanceId>${INSTANCE}</instanceId>` +
          `<instanceType>t3.small</instanceType><instanceState><code>16</code><name>running</name></instanceState>` +
          `<ipAddress>203.0.113.10</ipAddress></item></instancesSet></item></reservationSet></DescribeInstancesResponse>`,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  Object.assign(process.env, {
    AWS_CONFIG_FILE: join(dir, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL_EC2: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
  });
  for (const name of [
    'AWS_PROFILE',
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS',
  ])
    delete process.env[name];
});
afterAll(async () => {
  process.env = savedEnv;
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the AWS SDK endpoint and credentials', () => {
  it('sends EC2 calls to AWS_ENDPOINT_URL_EC2, signed with the profile’s keys for the machine’s region', async () => {
    const clients = awsClients({ region: 'eu-central-1', profile: 'sandbox' });
    await clients.checkCredentials();
    await expect(describeInstance(clients, INSTANCE)).resolves.toEqual({
      instanceId: INSTANCE,
      state: 'running',
      instanceType: 't3.small',
      address: '203.0.113.10',
    });
    expect(seen).toHaveLength(1);
    expect(Object.fromEntries(new URLSearchParams(seen[0]?.body))).toMatchObject({ Action: 'DescribeInstances', 'InstanceId.1': INSTANCE });
    expect(seen[0]?.authorization).toMatch(/Credential=AKIAEXAMPLE\/\d{8}\/eu-central-1\/ec2\/aws4_request/);
  });

  it('says which profile has no credentials, before any call', async () => {
    const calls = seen.length;
    await expect(awsClients({ region: 'eu-central-1', profile: 'nobody' }).checkCredentials()).rejects.toThrow(
      /no AWS credentials for profile "nobody"/,
    );
    expect(seen).toHaveLength(calls);
  });
});
