#!/usr/bin/env node
// A solc-compatible command line over the npm `solc` package (the wasm build),
// for py-solc-x, which needs an executable answering `--version` and
// `--standard-json`. The `solcjs` CLI cannot serve: it prints a line before its
// JSON. No compiler is ever downloaded: the wasm comes with node_modules.
//
// Usage: solc_frontend.cjs --node-modules DIR --project-root DIR [solc flags...]
//
// Source unit names follow Hardhat 3's scheme so that both builds produce
// byte-identical bytecode, metadata hash included:
//   project/<path>                     -> <project-root>/<path>
//   npm/<package>@<version>/<path>     -> <node-modules>/<package>/<path>
//                                         (only if the installed version matches)
"use strict";

const fs = require("node:fs");
const path = require("node:path");

function fail(message) {
  process.stderr.write(`solc front-end: ${message}\n`);
  process.exit(2);
}

function takeOption(argv, name) {
  const i = argv.indexOf(name);
  if (i < 0 || i + 1 >= argv.length) return null;
  const value = argv[i + 1];
  argv.splice(i, 2);
  return value;
}

const argv = process.argv.slice(2);
const nodeModules = takeOption(argv, "--node-modules");
const projectRoot = takeOption(argv, "--project-root");
if (!nodeModules || !projectRoot) fail("--node-modules and --project-root are required");

let solc;
try {
  solc = require(path.join(nodeModules, "solc"));
} catch (err) {
  fail(`cannot load the npm package solc from ${nodeModules}: run \`npm ci\` (${err.message})`);
}

function packageVersion(pkg) {
  const file = path.join(nodeModules, pkg, "package.json");
  return JSON.parse(fs.readFileSync(file, "utf8")).version;
}

function isInside(child, parent) {
  const rel = path.relative(parent, child);
  return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel);
}

// Import callback: resolves only the two name spaces above, never an arbitrary path.
function findImports(sourceName) {
  let file;
  if (sourceName.startsWith("project/")) {
    file = path.resolve(projectRoot, sourceName.slice("project/".length));
    if (!isInside(file, path.resolve(projectRoot))) return { error: `outside the project: ${sourceName}` };
  } else if (sourceName.startsWith("npm/")) {
    const m = /^npm\/((?:@[^/]+\/)?[^/@]+)@([^/]+)\/(.+)$/.exec(sourceName);
    if (!m) return { error: `malformed npm source name: ${sourceName}` };
    const [, pkg, version, rest] = m;
    let installed;
    try {
      installed = packageVersion(pkg);
    } catch (err) {
      return { error: `npm package ${pkg} is not installed: run \`npm ci\`` };
    }
    if (installed !== version) return { error: `${pkg} ${version} wanted, ${installed} installed` };
    file = path.resolve(nodeModules, pkg, rest);
    if (!isInside(file, path.resolve(nodeModules, pkg))) return { error: `outside ${pkg}: ${sourceName}` };
  } else {
    return { error: `unknown source name space: ${sourceName}` };
  }
  try {
    return { contents: fs.readFileSync(file, "utf8") };
  } catch (err) {
    return { error: `cannot read ${sourceName}: ${err.code || err.message}` };
  }
}

if (argv.includes("--version")) {
  // py-solc-x parses "<major>.<minor>.<patch>+commit.<hash>" out of this text.
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
  process.exit(0);
}

if (argv.includes("--standard-json")) {
  const chunks = [];
  process.stdin.on("data", (c) => chunks.push(c));
  process.stdin.on("end", () => {
    const input = Buffer.concat(chunks).toString("utf8");
    const output = solc.compile(input, { import: findImports });
    process.stdout.write(output);
    process.stdout.write("\n");
  });
} else {
  fail(`unsupported arguments: ${argv.join(" ")} (only --version and --standard-json)`);
}
