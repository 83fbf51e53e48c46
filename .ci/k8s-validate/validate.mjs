// Validates rendered Kubernetes manifests (stdin) against the Kubernetes JSON schemas shipped in kubernetes-models,
// offline, then checks what RnnService's deployment promises: 3 API replicas with probes, resources, a non-root user and
// a read-only root file system; 1 worker; a Service, an HPA on CPU, a PDB, a ReadWriteMany models volume, and secrets
// taken from a Secret. Prints one line per object; exits 1 on the first kind of failure it finds, after listing all.
//   kubectl kustomize deploy/k8s | node .ci/k8s-validate/validate.mjs
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

const objects = parseAllDocuments(readFileSync(0, "utf8")).map((document) => document.toJS()).filter(Boolean);
const failures = [];

for (const object of objects) {
  const { apiVersion, kind } = object;
  const name = `${kind}/${object.metadata?.name}`;
  // "apps/v1" -> kubernetes-models/apps/v1/Deployment; the core group "v1" -> kubernetes-models/v1/Service.
  let model;
  try {
    model = (await import(`kubernetes-models/${apiVersion}/${kind}`))[kind];
  } catch {
    failures.push(`${name}: no schema for ${apiVersion} ${kind}`);
    continue;
  }
  try {
    new model(object).validate();
    console.log(`valid   ${apiVersion} ${name}`);
  } catch (error) {
    failures.push(`${name}: ${error.message}`);
  }
}

const find = (kind, name) => objects.find((o) => o.kind === kind && o.metadata?.name === name);
const expect = (condition, message) => condition || failures.push(message);
const api = find("Deployment", "rnnservice-api");
const worker = find("Deployment", "rnnservice-worker");
expect(api?.spec?.replicas === 3, "the API Deployment runs 3 replicas");
expect(worker?.spec?.replicas === 1, "the worker Deployment runs 1 replica");
for (const deployment of [api, worker].filter(Boolean)) {
  const pod = deployment.spec.template.spec;
  expect(pod.securityContext?.runAsNonRoot === true, `${deployment.metadata.name} runs as non-root`);
  for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
    const where = `${deployment.metadata.name}/${container.name}`;
    expect(container.securityContext?.readOnlyRootFilesystem === true, `${where} has a read-only root file system`);
    expect(container.resources?.requests && container.resources?.limits, `${where} declares resource requests and limits`);
  }
  const env = pod.containers[0].env ?? [];
  expect(env.some((e) => e.name === "ConnectionStrings__Jobs" && e.valueFrom?.secretKeyRef), `${deployment.metadata.name} takes the database from a Secret`);
  expect(pod.volumes?.some((v) => v.persistentVolumeClaim?.claimName === "rnnservice-models"), `${deployment.metadata.name} mounts the models volume`);
}
const apiContainer = api?.spec?.template?.spec?.containers?.[0] ?? {};
for (const probe of ["readinessProbe", "livenessProbe", "startupProbe"]) expect(apiContainer[probe], `the API container has a ${probe}`);
expect(apiContainer.env?.some((e) => e.name === "Security__ApiKey" && e.valueFrom?.secretKeyRef), "the API key comes from a Secret");
expect(apiContainer.env?.some((e) => e.name === "Training__RunWorker" && e.value === "false"), "API replicas run no worker");
expect(find("Service", "rnnservice-api"), "a Service fronts the API");
const hpa = find("HorizontalPodAutoscaler", "rnnservice-api");
expect(hpa?.spec?.metrics?.some((m) => m.resource?.name === "cpu"), "an HPA scales the API on CPU");
expect(find("PodDisruptionBudget", "rnnservice-api"), "a PodDisruptionBudget covers the API");
expect(find("PersistentVolumeClaim", "rnnservice-models")?.spec?.accessModes?.includes("ReadWriteMany"), "the models volume is ReadWriteMany");

if (failures.length > 0) {
  for (const failure of failures) console.error(`INVALID ${failure}`);
  process.exit(1);
}
console.log(`${objects.length} objects valid against the Kubernetes schemas (kubernetes-models)`);
