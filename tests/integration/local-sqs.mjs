// local-sqs.mjs - starts the local-aws-sqs emulator on 127.0.0.1 (it has no CLI); started by
// sqs-tmp.sh. The package is loaded from the shared npm folder given as the first argument, so
// this file can stay in the source tree (shared/reference/env.md 5.3).
//   node local-sqs.mjs NPM_DIR PORT
import { createRequire } from "node:module";
import path from "node:path";

const [npmDir, portArg] = process.argv.slice(2);
if (!npmDir || !portArg) {
	console.error("usage: node local-sqs.mjs NPM_DIR PORT");
	process.exit(2);
}
const require = createRequire(path.join(path.resolve(npmDir), "package.json"));
const { createSqsServer } = require("local-aws-sqs");
const port = Number(portArg);
await createSqsServer({ port, hostname: "127.0.0.1", emulateQueueCreationLifecycle: false });
console.log(`local-aws-sqs listening on 127.0.0.1:${port}`);
