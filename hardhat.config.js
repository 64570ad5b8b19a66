// Hardhat 3 builds the same sources with the same compiler (the npm `solc`
// wasm build, never a downloaded one) and the same settings as the Python
// side (anchoring/toolchain.py reads them from contracts/solc-settings.json),
// so the two runtime bytecodes are byte-identical (a test checks it).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig } from "hardhat/config";

const settings = JSON.parse(readFileSync(new URL("./contracts/solc-settings.json", import.meta.url)));
const solc = JSON.parse(readFileSync(new URL("./node_modules/solc/package.json", import.meta.url)));

const compiler = {
  version: solc.version,
  path: fileURLToPath(new URL("./node_modules/solc/soljson.js", import.meta.url)),
  settings: settings.settings,
};

export default defineConfig({
  solidity: {
    profiles: { default: compiler, production: compiler },
  },
  paths: {
    sources: "contracts",
    tests: { solidity: "contracts/test" },
    artifacts: "build/hardhat/artifacts",
    cache: "build/hardhat/cache",
  },
});
