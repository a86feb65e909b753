// The Lookout for Vision lifecycle with the AWS SDK for JavaScript v3,
// against the registry's HTTP server: node scenario.mjs <url>.
// It prints "ok" and exits 0 when every step answered as expected.
import assert from "node:assert/strict";
import {
  LookoutVisionClient,
  CreateProjectCommand,
  CreateModelCommand,
  DescribeModelCommand,
  StartModelCommand,
  StopModelCommand,
  DeleteModelCommand,
  DeleteProjectCommand,
  ListModelsCommand,
  ListProjectsCommand,
  DescribeProjectCommand,
  ConflictException,
  ResourceNotFoundException,
} from "@aws-sdk/client-lookoutvision";

const endpoint = process.argv[2];
if (!endpoint) {
  console.error("usage: node scenario.mjs <url>");
  process.exit(2);
}

const client = (accessKeyId, secretAccessKey) =>
  new LookoutVisionClient({
    region: "us-east-1",
    endpoint,
    credentials: { accessKeyId, secretAccessKey },
    maxAttempts: 1,
  });

const lv = client("AKIDALICE", "alice-secret");
const ProjectName = "line-a";
const modelArn = (v) => `arn:aws:lookoutvision:us-east-1:123456789012:model/line-a/${v}`;

async function rejects(promise, name) {
  try {
    await promise;
  } catch (err) {
    assert.equal(err.name, name, `want ${name}, got ${err.name}: ${err.message}`);
    return err;
  }
  assert.fail(`want ${name}, the call succeeded`);
}

const cp = await lv.send(new CreateProjectCommand({ ProjectName }));
assert.equal(cp.ProjectMetadata.ProjectArn, "arn:aws:lookoutvision:us-east-1:123456789012:project/line-a");
assert.ok(cp.ProjectMetadata.CreationTimestamp instanceof Date);
assert.ok(Math.abs(cp.ProjectMetadata.CreationTimestamp.getTime() - Date.now()) < 60_000);

const outputConfig = { S3Location: { Bucket: "out-bucket", Prefix: "line-a/" } };
const cm = await lv.send(new CreateModelCommand({ ProjectName, OutputConfig: outputConfig, Description: "first-model" }));
assert.equal(cm.$metadata.httpStatusCode, 202);
assert.equal(cm.ModelMetadata.ModelVersion, "1");
assert.equal(cm.ModelMetadata.Status, "TRAINING");

let dm = await lv.send(new DescribeModelCommand({ ProjectName, ModelVersion: "1" }));
assert.equal(dm.ModelDescription.Status, "TRAINED");
assert.equal(dm.ModelDescription.OutputConfig.S3Location.Bucket, "out-bucket");

const st = await lv.send(new StartModelCommand({ ProjectName, ModelVersion: "1", MinInferenceUnits: 1 }));
assert.equal(st.Status, "STARTING_HOSTING");
dm = await lv.send(new DescribeModelCommand({ ProjectName, ModelVersion: "1" }));
assert.equal(dm.ModelDescription.Status, "HOSTED");

// A hosted model is not deleted.
const ce = await rejects(lv.send(new DeleteModelCommand({ ProjectName, ModelVersion: "1" })), "ConflictException");
assert.ok(ce instanceof ConflictException);
assert.equal(ce.ResourceType, "MODEL");
assert.equal(ce.ResourceId, "1");
assert.equal(ce.$metadata.httpStatusCode, 409);
assert.ok(ce.$metadata.requestId);

const sp = await lv.send(new StopModelCommand({ ProjectName, ModelVersion: "1" }));
assert.equal(sp.Status, "STOPPING_HOSTING");

const ClientToken = "delete-model-1";
const dr = await lv.send(new DeleteModelCommand({ ProjectName, ModelVersion: "1", ClientToken }));
assert.equal(dr.$metadata.httpStatusCode, 202);
assert.equal(dr.ModelArn, modelArn(1));

const cm2 = await lv.send(new CreateModelCommand({ ProjectName, OutputConfig: outputConfig }));
assert.equal(cm2.ModelMetadata.ModelVersion, "2");

// A retry with the same token answers the same; the same token with another
// model is refused and model 2 stays.
const again = await lv.send(new DeleteModelCommand({ ProjectName, ModelVersion: "1", ClientToken }));
assert.equal(again.ModelArn, modelArn(1));
await rejects(lv.send(new DeleteModelCommand({ ProjectName, ModelVersion: "2", ClientToken })), "ConflictException");

const lm = await lv.send(new ListModelsCommand({ ProjectName }));
assert.deepEqual(lm.Models.map((m) => m.ModelVersion), ["2"]);
const lp = await lv.send(new ListProjectsCommand({ MaxResults: 10 }));
assert.deepEqual(lp.Projects.map((p) => p.ProjectName), ["line-a"]);

const nf = await rejects(lv.send(new DescribeProjectCommand({ ProjectName: "line-z" })), "ResourceNotFoundException");
assert.ok(nf instanceof ResourceNotFoundException);
assert.equal(nf.ResourceType, "PROJECT");
await rejects(lv.send(new DescribeModelCommand({ ProjectName, ModelVersion: "01" })), "ValidationException");
await rejects(lv.send(new CreateProjectCommand({ ProjectName: "line-b" })), "AccessDeniedException");

// DeleteProject needs its models gone first.
await rejects(lv.send(new DeleteProjectCommand({ ProjectName })), "ConflictException");
await lv.send(new DeleteModelCommand({ ProjectName, ModelVersion: "2" }));
const dp = await lv.send(new DeleteProjectCommand({ ProjectName }));
assert.equal(dp.ProjectArn, "arn:aws:lookoutvision:us-east-1:123456789012:project/line-a");

// A wrong secret or an unknown key is refused as AWS refuses them.
await rejects(client("AKIDALICE", "not-the-secret").send(new ListProjectsCommand({})), "InvalidSignatureException");
await rejects(client("AKIDNOBODY", "x").send(new ListProjectsCommand({})), "UnrecognizedClientException");

console.log("ok");
