// A third party's client, generated from the served OpenAPI document (openapi-typescript types, openapi-fetch calls),
// against a running instance. Every response passes through `conformance`: its status and media type must be listed
// for the operation, and a JSON body must validate against the documented schema (Ajv), so the document cannot
// promise a field the service leaves out, or leave out a status the service answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import createClient, { type Middleware } from 'openapi-fetch';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { paths } from './generated/api.js';

const baseUrl = required('CONTRACT_BASE_URL');
const apiKey = required('CONTRACT_API_KEY');
const document = JSON.parse(readFileSync(required('CONTRACT_DOCUMENT'), 'utf8'));

const ajv = new Ajv({ strict: false, allErrors: true });
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => void;
addFormats(ajv);
for (const format of ['int32', 'int64', 'double', 'float']) ajv.addFormat(format, true);
ajv.addSchema(document, 'openapi');
const validators = new Map<string, ValidateFunction>();

/** What the document promises for each answer: its status, its media type, and the body's schema. */
const conformance: Middleware = {
  async onResponse({ request, response, schemaPath }) {
    const method = request.method.toLowerCase();
    const where = `${request.method} ${schemaPath}`;
    const operation = document.paths[schemaPath]?.[method];
    assert.ok(operation, `${where} is not in the document`);
    const documented = operation.responses[String(response.status)];
    assert.ok(documented, `${where} answered ${response.status}, which the document does not list`);
    const mediaType = (response.headers.get('content-type') ?? '').split(';')[0]!.trim();
    const content = documented.content?.[mediaType];
    assert.ok(content, `${where} answered ${response.status} as ${mediaType}; documented: ${Object.keys(documented.content ?? {}).join(', ')}`);
    if (!mediaType.endsWith('json')) return;
    const key = `${where} ${response.status} ${mediaType}`;
    let validate = validators.get(key);
    if (!validate) {
      // The schema's references point into the whole document, registered as "openapi".
      validate = ajv.compile(JSON.parse(JSON.stringify(content.schema).replaceAll('"#/components/', '"openapi#/components/')));
      validators.set(key, validate);
    }
    const body: unknown = JSON.parse(await response.clone().text());
    assert.ok(validate(body), `${key}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 400)}`);
  },
};

const client = createClient<paths>({ baseUrl });
client.use(conformance);
const keyed = { headers: { 'X-Api-Key': apiKey } };

test('predict: one name, the top languages, the model version', async () => {
  const { data, response } = await client.POST('/api/predictions', { body: { name: 'Nakamura', top: 3 } });
  assert.equal(response.status, 200);
  assert.equal(data?.languages.length, 3);
  assert.equal(data?.languages[0]?.language, 'Japanese');
  assert.equal(data?.modelVersion, 1);
  assert.ok(data?.predictionSet.languages.includes('Japanese'));
});

test('predict: answers in plain UTF-8', async () => {
  const { data } = await client.POST('/api/predictions', { body: { name: "Müller-O'Brien" }, parseAs: 'text' });
  assert.match(String(data), /"name":"Müller-O'Brien"/);
});

test('batch: results in order, ids echoed, one version', async () => {
  const { data } = await client.POST('/api/predictions/batch', { body: { names: ['Schmidt', 'Rossi'], ids: ['a', 'b'], top: 2 } });
  assert.deepEqual(data?.results.map((result) => result.id), ['a', 'b']);
  assert.deepEqual(data?.results.map((result) => result.languages[0]?.language), ['German', 'Italian']);
  assert.equal(data?.modelVersion, 1);
});

test('explain: one step per character, ending in the prediction', async () => {
  const { data } = await client.POST('/api/predictions/explain', { body: { name: 'Ng' } });
  assert.equal(data?.steps.length, 2);
  assert.equal(data?.steps.at(-1)?.languages[0]?.language, data?.prediction.languages[0]?.language);
});

test('requests hold the documented fields only, with their JSON types', async () => {
  const unknownField: object = { name: 'Smith', foo: 1 };
  const unknown = await client.POST('/api/predictions', { body: unknownField as { name: string } });
  assert.equal(unknown.response.status, 400);
  assert.equal(unknown.error?.code, 'validation');
  assert.match(fieldErrors(unknown.error)['foo']?.[0] ?? '', /^foo is not a field of this request/);

  const numberAsString: object = { name: 'Smith', top: '3' };
  const quoted = await client.POST('/api/predictions', { body: numberAsString as { name: string } });
  assert.deepEqual(fieldErrors(quoted.error), { top: ['top must be a whole number (not in quotes).'] });

  const tooMany = await client.POST('/api/predictions/batch', { body: { names: Array(1001).fill('Lopez') } });
  assert.deepEqual(fieldErrors(tooMany.error), { names: ['names may hold at most 1,000 names.'] });
});

test('models: list, current, one version, its card as JSON and Markdown, an unknown version', async () => {
  const list = await client.GET('/api/models');
  assert.deepEqual(list.data?.map((model) => [model.version, model.current]), [[1, true]]);
  const current = await client.GET('/api/models/current');
  assert.equal(current.data?.version, 1);
  const one = await client.GET('/api/models/{version}', { params: { path: { version: 1 } } });
  assert.equal(one.data?.languages.length, 18);
  const card = await client.GET('/api/models/{version}/card', { params: { path: { version: 1 } } });
  assert.equal(typeof card.data === 'object' ? card.data.version : card.data, 1);
  const markdown = await client.GET('/api/models/{version}/card', { params: { path: { version: 1 }, query: { format: 'markdown' } }, parseAs: 'text' });
  assert.match(String(markdown.data), /^# Model card/);
  const missing = await client.GET('/api/models/{version}', { params: { path: { version: 99 } } });
  assert.equal(missing.error?.code, 'not-found');
  assert.equal(missing.error?.type, '/problems/not-found');
});

test('training: start, poll until published, list; a second job is refused while one runs, then cancelled', async () => {
  const anonymous = await client.POST('/api/training', { body: { members: 1, hiddenSize: 8, epochs: 2 } });
  assert.equal(anonymous.error?.code, 'api-key-missing');

  const started = await client.POST('/api/training', { body: { members: 1, hiddenSize: 8, epochs: 2 }, ...keyed });
  assert.equal(started.response.status, 202);
  assert.equal(started.response.headers.get('location'), `/api/training/${started.data?.id}`);
  const finished = await pollUntilFinished(started.data!.id);
  assert.equal(finished.state, 'Succeeded');
  assert.equal(finished.modelVersion, 2);
  assert.equal(finished.epochs.length, 2);
  const jobs = await client.GET('/api/training');
  assert.ok(jobs.data?.some((job) => job.id === started.data?.id));

  const long = await client.POST('/api/training', { body: { members: 1, hiddenSize: 8, epochs: 200, earlyStoppingPatience: 0 }, ...keyed });
  assert.equal(long.response.status, 202);
  const refused = await client.POST('/api/training', { body: { hiddenSize: 8 }, ...keyed });
  assert.equal(refused.error?.code, 'training-job-active');
  assert.equal(refused.error?.jobId, long.data?.id);
  const cancelled = await client.DELETE('/api/training/{id}', { params: { path: { id: long.data!.id } }, ...keyed });
  assert.equal(cancelled.response.status, 202);
  assert.equal((await pollUntilFinished(long.data!.id)).state, 'Cancelled');
  const again = await client.DELETE('/api/training/{id}', { params: { path: { id: long.data!.id } }, ...keyed });
  assert.equal(again.error?.code, 'training-job-finished');
});

async function pollUntilFinished(id: string) {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const { data } = await client.GET('/api/training/{id}', { params: { path: { id } } });
    assert.ok(data);
    if (['Succeeded', 'Failed', 'Cancelled'].includes(data.state)) return data;
    assert.ok(Date.now() < deadline, `job ${id} still ${data.state} after 120 s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** A problem's field errors; only validation problems (400) have them, so the generated union may lack them. */
function fieldErrors(problem: object | undefined): Record<string, string[]> {
  assert.ok(problem && 'errors' in problem, `not a validation problem: ${JSON.stringify(problem)}`);
  return problem.errors as Record<string, string[]>;
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (run.sh sets it)`);
  return value;
}
