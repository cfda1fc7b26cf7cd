#include "storage/repo/sample_packages.h"

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"

namespace mcpreg::storage {
namespace {

// Fixed timestamp so that the same inputs give the same bytes (and digest).
constexpr time_t kEntryMtime = 1700000000;

la_ssize_t AppendToString(archive*, void* out, const void* data, size_t n) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(data), n);
  return static_cast<la_ssize_t>(n);
}

struct WriterCloser {
  void operator()(archive* a) const { archive_write_free(a); }
};

std::string Build(const std::vector<ArchiveEntry>& entries, bool zip) {
  std::string out;
  std::unique_ptr<archive, WriterCloser> a(archive_write_new());
  if (zip) {
    archive_write_set_format_zip(a.get());
  } else {
    archive_write_add_filter_gzip(a.get());
    // No timestamp in the gzip header: deterministic output.
    archive_write_set_filter_option(a.get(), "gzip", "timestamp", nullptr);
    archive_write_set_format_pax_restricted(a.get());
  }
  // One block per write: the callback sees the data as it is produced.
  archive_write_set_bytes_in_last_block(a.get(), 1);
  archive_write_open(a.get(), &out, nullptr, &AppendToString, nullptr);
  for (const auto& [path, content] : entries) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, path.c_str());
    archive_entry_set_filetype(entry, AE_IFREG);
    archive_entry_set_perm(entry,
                           absl::StartsWith(content, "#!") ? 0755 : 0644);
    archive_entry_set_size(entry, static_cast<la_int64_t>(content.size()));
    archive_entry_set_mtime(entry, kEntryMtime, 0);
    archive_write_header(a.get(), entry);
    archive_write_data(a.get(), content.data(), content.size());
    archive_entry_free(entry);
  }
  archive_write_close(a.get());
  return out;
}

std::string ModuleName(absl::string_view name) {
  return absl::StrReplaceAll(name, {{"-", "_"}, {".", "_"}});
}

// A stdio MCP server (newline-delimited JSON-RPC 2.0) with three tools:
// echo, add, and delete_everything (which only says what it would do: a
// tool a policy should keep from agents). When MCP_SAMPLE_CALL_LOG names a
// file, every tools/call it receives is appended there, so a test can tell
// which calls reached the server.
constexpr char kPythonServer[] =
    R"PY("""A minimal MCP server on stdio with three tools."""
import json
import os
import sys

PROTOCOL_VERSION = "2025-06-18"
TOOLS = [
    {"name": "echo",
     "description": "Returns the text it is given.",
     "inputSchema": {"type": "object",
                     "properties": {"text": {"type": "string"}},
                     "required": ["text"]}},
    {"name": "add",
     "description": "Adds two numbers.",
     "inputSchema": {"type": "object",
                     "properties": {"a": {"type": "number"},
                                    "b": {"type": "number"}},
                     "required": ["a", "b"]}},
    {"name": "delete_everything",
     "description": "Would delete everything (it only says so).",
     "inputSchema": {"type": "object", "properties": {}}},
]


def call(name, arguments):
    log = os.environ.get("MCP_SAMPLE_CALL_LOG")
    if log:
        with open(log, "a") as f:
            f.write(name + "\n")
    if name == "echo":
        return str(arguments.get("text", ""))
    if name == "add":
        return str(arguments.get("a", 0) + arguments.get("b", 0))
    if name == "delete_everything":
        return "this would have deleted everything"
    raise LookupError("tool " + name)


def handle(method, params):
    if method == "initialize":
        return {"protocolVersion": PROTOCOL_VERSION,
                "capabilities": {"tools": {}},
                "serverInfo": {"name": __name__, "version": __version__}}
    if method == "ping":
        return {}
    if method == "tools/list":
        return {"tools": TOOLS}
    if method == "tools/call":
        text = call(params.get("name"), params.get("arguments") or {})
        return {"content": [{"type": "text", "text": text}]}
    raise LookupError(method)


def main():
    for line in sys.stdin:
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if "id" not in message:
            continue  # a notification
        reply = {"jsonrpc": "2.0", "id": message["id"]}
        try:
            reply["result"] = handle(message.get("method"),
                                     message.get("params") or {})
        except LookupError as unknown:
            reply["error"] = {"code": -32601,
                              "message": "unknown %s" % unknown}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()

)PY";

constexpr char kNodeServer[] = R"JS(#!/usr/bin/env node
// A minimal MCP server on stdio with three tools: echo, add and
// delete_everything (which only says so). MCP_SAMPLE_CALL_LOG, when set,
// names a file every tools/call it receives is appended to.
'use strict';
const fs = require('fs');
const readline = require('readline');
const pkg = require('./package.json');

const TOOLS = [
  {name: 'echo', description: 'Returns the text it is given.',
   inputSchema: {type: 'object', properties: {text: {type: 'string'}},
                 required: ['text']}},
  {name: 'add', description: 'Adds two numbers.',
   inputSchema: {type: 'object',
                 properties: {a: {type: 'number'}, b: {type: 'number'}},
                 required: ['a', 'b']}},
  {name: 'delete_everything',
   description: 'Would delete everything (it only says so).',
   inputSchema: {type: 'object', properties: {}}},
];

function call(name, args) {
  if (process.env.MCP_SAMPLE_CALL_LOG) {
    fs.appendFileSync(process.env.MCP_SAMPLE_CALL_LOG, name + '\n');
  }
  switch (name) {
    case 'echo': return String(args.text || '');
    case 'add': return String(Number(args.a || 0) + Number(args.b || 0));
    case 'delete_everything': return 'this would have deleted everything';
  }
  return undefined;
}

function handle(method, params) {
  switch (method) {
    case 'initialize':
      return {protocolVersion: '2025-06-18', capabilities: {tools: {}},
              serverInfo: {name: pkg.name, version: pkg.version}};
    case 'ping':
      return {};
    case 'tools/list':
      return {tools: TOOLS};
    case 'tools/call': {
      const text = call(params.name, params.arguments || {});
      if (text !== undefined) return {content: [{type: 'text', text}]};
    }
  }
  return undefined;
}

readline.createInterface({input: process.stdin}).on('line', (line) => {
  let message;
  try { message = JSON.parse(line); } catch (e) { return; }
  if (message.id === undefined) return;  // a notification
  const result = handle(message.method, message.params || {});
  const reply = result === undefined
      ? {jsonrpc: '2.0', id: message.id,
         error: {code: -32601, message: `unknown method ${message.method}`}}
      : {jsonrpc: '2.0', id: message.id, result};
  process.stdout.write(JSON.stringify(reply) + '\n');
});
)JS";

std::string PythonModule(absl::string_view version) {
  return absl::StrCat("__version__ = \"", version, "\"\n", kPythonServer);
}

// So that `python -m <module>` runs the server too.
std::string MainModule(absl::string_view module) {
  return absl::StrCat("from ", module, " import main\n\nmain()\n");
}

std::string CoreMetadata(absl::string_view name, absl::string_view version,
                         absl::string_view summary) {
  return absl::StrCat("Metadata-Version: 2.1\nName: ", name,
                      "\nVersion: ", version, "\nSummary: ", summary,
                      "\nRequires-Python: >=3.8\n"
                      "Description-Content-Type: text/markdown\n\n# ",
                      name, "\n\n", summary, "\n");
}

// RECORD lines: path,sha256=<urlsafe base64, unpadded>,size
std::string RecordLine(const ArchiveEntry& e) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(e.second.data(), e.second.size(), digest, &length, EVP_sha256(),
             nullptr);
  std::string b64 = absl::WebSafeBase64Escape(
      absl::string_view(reinterpret_cast<const char*>(digest), length));
  return absl::StrCat(e.first, ",sha256=", b64, ",", e.second.size(), "\n");
}

}  // namespace

std::string BuildTarGz(const std::vector<ArchiveEntry>& entries) {
  return Build(entries, /*zip=*/false);
}

std::string BuildZip(const std::vector<ArchiveEntry>& entries) {
  return Build(entries, /*zip=*/true);
}

std::string BuildSdist(absl::string_view name, absl::string_view version,
                       absl::string_view summary) {
  const std::string module = ModuleName(name);
  const std::string top = absl::StrCat(module, "-", version, "/");
  const std::string pyproject = absl::StrCat(
      "[build-system]\nrequires = [\"setuptools>=61\"]\n"
      "build-backend = \"setuptools.build_meta\"\n\n"
      "[project]\nname = \"",
      name, "\"\nversion = \"", version, "\"\ndescription = \"", summary,
      "\"\nreadme = \"README.md\"\nrequires-python = \">=3.8\"\n\n"
      "[project.scripts]\n",
      name, " = \"", module, ":main\"\n");
  return BuildTarGz({
      {top + "PKG-INFO", CoreMetadata(name, version, summary)},
      {top + "pyproject.toml", pyproject},
      {top + "README.md", absl::StrCat("# ", name, "\n\n", summary, "\n")},
      {absl::StrCat(top, "src/", module, "/__init__.py"),
       PythonModule(version)},
      {absl::StrCat(top, "src/", module, "/__main__.py"), MainModule(module)},
  });
}

std::string BuildWheel(absl::string_view name, absl::string_view version,
                       absl::string_view summary) {
  const std::string module = ModuleName(name);
  const std::string info = absl::StrCat(module, "-", version, ".dist-info/");
  std::vector<ArchiveEntry> entries = {
      {absl::StrCat(module, "/__init__.py"), PythonModule(version)},
      {absl::StrCat(module, "/__main__.py"), MainModule(module)},
      {info + "METADATA", CoreMetadata(name, version, summary)},
      {info + "WHEEL",
       "Wheel-Version: 1.0\nGenerator: mcpreg\nRoot-Is-Purelib: true\n"
       "Tag: py3-none-any\n"},
      {info + "entry_points.txt",
       absl::StrCat("[console_scripts]\n", name, " = ", module, ":main\n")},
  };
  std::string record;
  for (const ArchiveEntry& e : entries) record += RecordLine(e);
  record += info + "RECORD,,\n";
  entries.push_back({info + "RECORD", record});
  return BuildZip(entries);
}

std::string BuildNpmTarball(absl::string_view name, absl::string_view version,
                            absl::string_view description) {
  absl::string_view bin = name;
  if (const size_t slash = bin.rfind('/'); slash != absl::string_view::npos) {
    bin = bin.substr(slash + 1);  // "@scope/tool" installs the command "tool"
  }
  const std::string package_json = absl::StrCat(
      "{\n  \"name\": \"", name, "\",\n  \"version\": \"", version,
      "\",\n  \"description\": \"", description,
      "\",\n  \"license\": \"MIT\",\n  \"bin\": {\"", bin,
      "\": \"index.js\"},\n  \"engines\": {\"node\": \">=18\"}\n}\n");
  return BuildTarGz({
      {"package/package.json", package_json},
      {"package/index.js", kNodeServer},
      {"package/README.md",
       absl::StrCat("# ", name, "\n\n", description, "\n")},
  });
}

}  // namespace mcpreg::storage
