/**
 * The Python side of `python: cpython`: a small Rez-compatible loader that the
 * host's CPython runs, written for Tantalus (it is not Rez's code; it gives
 * package.py the names Rez 3.4 gives it: `early`, `late`, `include`, `scope`,
 * `ModifyList`, `InvalidPackageError`, and the `rez.*` modules definitions
 * import). It is embedded here as a string rather than shipped as a .py file:
 * `tsc` copies no .py files into dist/, and a string cannot be missing from
 * the npm package, nor found at a different path under tsx and under dist/.
 *
 * Protocol: one JSON message per line, requests on stdin, answers on fd 3, so
 * whatever the package prints (or a process it starts writes) never mixes with
 * them: Node gives the child its stderr as stdout and stderr, and stdin is
 * moved to /dev/null once the shim holds its own copy.
 *
 * Values travel tagged: JSON scalars and arrays (lists) as they are, and
 * {"t": [...]} tuple, {"d": [[k, v]...]} dict, {"s": [...]} set, {"f": x} float,
 * {"i": "digits"} big int, {"fn": {...}} a kept function, {"h": n} an object
 * that lives in Tantalus (a rex binding), {"ml": [append, prepend]} ModifyList,
 * {"o": repr, "ty": type} any other object (kept opaque).
 */
export const SHIM_SOURCE = String.raw`
import ast, builtins, json, math, os, sys, types

_proto_in = os.fdopen(os.dup(0), "r", encoding="utf-8")
_null = os.open(os.devnull, os.O_RDONLY)
os.dup2(_null, 0)
os.close(_null)
sys.stdin = open(os.devnull)
_proto_out = os.fdopen(3, "w", encoding="utf-8")
os.set_inheritable(3, False)

REX_KEYS = ("pre_commands", "commands", "post_commands", "pre_build_commands", "pre_test_commands")


def _send(msg):
    _proto_out.write(json.dumps(msg) + "\n")
    _proto_out.flush()


def _receive():
    line = _proto_in.readline()
    if not line:
        sys.exit(0)
    return json.loads(line)


class _Abort(BaseException):
    """Tantalus stopped the call (a refusal or an error on its side): package code cannot catch it."""


# -- what package.py sees ------------------------------------------------------

def _mark(fn, name, **extra):
    marks = list(getattr(fn, "_decorators", []))
    marks.append(dict(name=name, **extra))
    fn._decorators = marks


def early():
    def decorate(fn):
        fn._early = True
        return fn
    return decorate


def late():
    def decorate(fn):
        if fn.__name__ in REX_KEYS:
            raise ValueError("Cannot use @late decorator on function '%s'" % fn.__name__)
        fn._late = True
        _mark(fn, "late")
        return fn
    return decorate


def include(module_name, *more):
    def decorate(fn):
        _mark(fn, "include", nargs=[module_name] + list(more))
        return fn
    return decorate


class ModifyList(object):
    def __init__(self, append=None, prepend=None):
        for v in (append, prepend):
            if v is not None and not isinstance(v, list):
                raise ValueError("Expected list in ModifyList, not %r" % (v,))
        self.append = append
        self.prepend = prepend


class RezError(Exception):
    pass


class InvalidPackageError(RezError):
    pass


class ResourceError(RezError):
    pass


class _Attributes(object):
    """What 'with scope("config") as c:' binds: attributes that nest on first read ('c.a.b = 1')."""

    def __init__(self):
        object.__setattr__(self, "_data", {})

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        data = object.__getattribute__(self, "_data")
        if name not in data:
            data[name] = _Attributes()
        return data[name]

    def __setattr__(self, name, value):
        object.__getattribute__(self, "_data")[name] = value

    def to_dict(self):
        data = object.__getattribute__(self, "_data")
        return dict((k, v.to_dict() if isinstance(v, _Attributes) else v) for k, v in data.items())


class _Scope(_Attributes):
    """One 'with scope(NAME):' block: the names the block binds become the scope's, and leave the module."""

    def __init__(self, name, scopes):
        _Attributes.__init__(self)
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_scopes", scopes)
        object.__setattr__(self, "_before", None)

    def __enter__(self):
        object.__setattr__(self, "_before", dict(sys._getframe(1).f_locals))
        return self

    def __exit__(self, *exc):
        names = sys._getframe(1).f_locals
        before = object.__getattribute__(self, "_before")
        data = object.__getattribute__(self, "_data")
        for k, v in list(names.items()):
            if k.startswith("__") and k.endswith("__") or isinstance(v, _Scope):
                continue
            if k not in before or v is not before[k] and v != before[k]:
                data[k] = v
        names.clear()
        names.update(before)
        object.__getattribute__(self, "_scopes").leave(self)
        return False


class _Scopes(object):
    """The 'scope' global: nested dicts from nested 'with scope(...)' blocks, merged when a path is reused."""

    def __init__(self):
        self.root = _Attributes()
        self.stack = []
        self.by_path = {}

    def __call__(self, name):
        path = tuple(object.__getattribute__(s, "_name") for s in self.stack) + (name,)
        if path not in self.by_path:
            self.by_path[path] = _Scope(name, self)
        scope = self.by_path[path]
        self.stack.append(scope)
        return scope

    def leave(self, scope):
        self.stack.pop()
        parent = self.stack[-1] if self.stack else self.root
        object.__getattribute__(parent, "_data")[object.__getattribute__(scope, "_name")] = scope.to_dict()

    def to_dict(self):
        return self.root.to_dict()


class _System(object):
    """rez.system.system: answers for the platform packages are loaded for (the configured target, else this host)."""

    @property
    def platform(self):
        return _target["platform"]

    @property
    def arch(self):
        return _target["arch"]

    @property
    def os(self):
        return _target["os"]

    def __str__(self):
        return "%s-%s-%s" % (self.platform, self.arch, self.os)


class _Platform(object):
    @property
    def name(self):
        return _target["platform"]

    @property
    def arch(self):
        return _target["arch"]

    @property
    def os(self):
        return _target["os"]


class _NoneModule(types.ModuleType):
    """rez.utils.lint_helper: every name imported from it is None (it only pleases linters)."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return None

    def used(self, obj):
        return None


def _process_output(attr, argv):
    import subprocess
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    out, err = p.communicate()
    if p.returncode:
        raise InvalidPackageError("Error determining package attribute '%s':\n%s" % (attr, err))
    return out.strip(), err.strip()


def exec_command(attr, cmd):
    return _process_output(attr, cmd)


def exec_python(attr, src, executable="python"):
    if isinstance(src, str):
        src = [src]
    return _process_output(attr, [executable, "-c", "; ".join(src)])[0]


def expand_requirement(request, paths=None):
    if "*" not in request:
        return request
    raise _Refusal(
        "expand_requires('%s') with a wildcard searches the package repositories while the file loads, "
        "which Tantalus's CPython loader does not do" % request)


def expand_requires(*requests):
    return [expand_requirement(r) for r in requests]


def find_site_python(module_name, paths=None):
    raise _Refusal("find_site_python('%s') searches the package repositories while the file loads, "
                   "which Tantalus's CPython loader does not do" % module_name)


class _Refusal(BaseException):
    pass


def _install_rez_modules():
    def module(name, **members):
        m = types.ModuleType(name)
        m.__path__ = []
        m.__dict__.update(members)
        sys.modules[name] = m
        return m

    lint = _NoneModule("rez.utils.lint_helper")
    sys.modules["rez.utils.lint_helper"] = lint
    exceptions = module("rez.exceptions", RezError=RezError, InvalidPackageError=InvalidPackageError,
                        ResourceError=ResourceError)
    sourcecode = module("rez.utils.sourcecode", early=early, late=late, include=include)
    platform_ = module("rez.utils.platform_", platform_=_Platform())
    utils = module("rez.utils", lint_helper=lint, sourcecode=sourcecode, platform_=platform_)
    py_utils = module("rez.package_py_utils", expand_requirement=expand_requirement, expand_requires=expand_requires,
                      exec_command=exec_command, exec_python=exec_python, find_site_python=find_site_python)
    system = module("rez.system", system=_System())
    module("rez", utils=utils, package_py_utils=py_utils, system=system, exceptions=exceptions)
    sys.meta_path.insert(0, _RezFinder())


class _RezFinder(object):
    """Any other rez.* module: Tantalus gives package code only the ones above (Rez itself is not loaded)."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname == "rez" or fullname.startswith("rez."):
            raise _Refusal(
                "the module '%s' is not one Tantalus's CPython loader gives package code (rez.utils.lint_helper, "
                "rez.utils.sourcecode, rez.utils.platform_, rez.package_py_utils, rez.system, rez.exceptions)"
                % fullname)
        return None


_install_rez_modules()
_target = {"platform": "linux", "arch": "x86_64", "os": "linux"}


class _EarlyThis(object):
    def __init__(self, data):
        self._data = data

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        missing = object()
        value = self._data.get(name, missing)
        if value is missing:
            raise AttributeError("No such package attribute '%s'" % name)
        if isinstance(value, types.FunctionType) and (hasattr(value, "_early") or hasattr(value, "_late")):
            raise ValueError("An early binding function cannot refer to another early or late binding function: '%s'"
                             % name)
        return value


# -- loading a definition ------------------------------------------------------

_functions = []          # kept functions (late, rex), by id
_bodies = {}             # id -> compiled body of a rex function (executed, not called, as Rez does)


def _assignment_lines(tree):
    """The line each module-level name was last bound on (descending into if/with/try, not into defs)."""
    lines = {}

    def targets(node, line):
        if isinstance(node, ast.Name):
            lines[node.id] = line
        elif isinstance(node, (ast.Tuple, ast.List)):
            for e in node.elts:
                targets(e, line)

    def walk(stmts):
        for s in stmts:
            if isinstance(s, ast.Assign):
                for t in s.targets:
                    targets(t, s.lineno)
            elif isinstance(s, (ast.AugAssign, ast.AnnAssign)):
                targets(s.target, s.lineno)
            elif isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                lines[s.name] = s.lineno
            elif isinstance(s, (ast.Import, ast.ImportFrom)):
                for a in s.names:
                    lines[(a.asname or a.name).split(".")[0]] = s.lineno
            for field in ("body", "orelse", "finalbody"):
                inner = getattr(s, field, None)
                if isinstance(inner, list) and not isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    walk(inner)
            for h in getattr(s, "handlers", []) or []:
                walk(h.body)

    walk(tree.body)
    return lines


def _function_nodes(tree):
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            first = node.decorator_list[0].lineno if node.decorator_list else node.lineno
            found[(node.name, first)] = node
            found[(node.name, node.lineno)] = node
    return found


def _keep(fn, file, nodes, late_bound):
    fid = len(_functions)
    _functions.append(fn)
    if not late_bound:
        node = nodes.get((fn.__name__, fn.__code__.co_firstlineno))
        if node is not None:
            body = ast.Module(body=node.body, type_ignores=[])
            _bodies[fid] = compile(body, file, "exec")
    return {"fn": {"id": fid, "name": fn.__name__, "line": fn.__code__.co_firstlineno,
                   "late": bool(late_bound), "marks": getattr(fn, "_decorators", [])}}


def _encode(v, where, keep=None, lenient=False):
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, int):
        return v if -(2 ** 53) < v < 2 ** 53 else {"i": str(v)}
    if isinstance(v, float):
        return {"f": v if math.isfinite(v) else repr(v)}
    if isinstance(v, list):
        return [_encode(x, "%s[%d]" % (where, i), keep, lenient) for i, x in enumerate(v)]
    if isinstance(v, tuple):
        return {"t": [_encode(x, "%s[%d]" % (where, i), keep, lenient) for i, x in enumerate(v)]}
    if isinstance(v, (set, frozenset)):
        return {"s": [_encode(x, where, keep, lenient) for x in v]}
    if isinstance(v, dict):
        return {"d": [[_encode(k, where, keep, lenient), _encode(x, "%s[%r]" % (where, k), keep, lenient)] for k, x in v.items()]}
    if isinstance(v, ModifyList):
        return {"ml": [_encode(v.append, where, keep), _encode(v.prepend, where, keep)]}
    if isinstance(v, _Remote):
        return {"h": object.__getattribute__(v, "_h")}
    if keep is not None and isinstance(v, types.FunctionType):
        return keep(v)
    if lenient:
        # what rex receives as a value (a pathlib.Path, say) it takes as text, as Rez's str() of it
        return str(v)
    # Rez keeps any other object as the attribute's value (a file left open by 'with open(...) as f'):
    # Tantalus keeps its type and repr, which is all package data can use of it
    return {"o": repr(v), "ty": type(v).__name__}


class _TargetHost:
    """Under a configured target, platform.system()/machine() and sys.platform answer for it while a
    definition loads. The answers are the built-in evaluator's target host's (targetPythonHost), sent
    by Tantalus, so the two evaluators cannot map a target differently; the kernel stays the host's."""

    def __init__(self, target):
        self.target = target

    def __enter__(self):
        import platform
        if self.target is None:
            return self
        t = self.target
        self.saved = (platform.system, platform.machine, sys.platform)
        platform.system = lambda: t["system"]
        platform.machine = lambda: t["machine"]
        sys.platform = t["sys_platform"]
        return self

    def __exit__(self, *exc):
        import platform
        if self.target is not None:
            platform.system, platform.machine, sys.platform = self.saved
        return False


def _load(req):
    with _TargetHost(req.get("target")):
        return _load_for(req)


def _load_for(req):
    global _target
    file = req["file"]
    _target = req["system"]
    if req.get("cwd") and req["cwd"] != os.getcwd():
        # relative paths in package code are relative to Tantalus's working directory, as to Rez's
        os.chdir(req["cwd"])
    source = req.get("source")
    if source is None:
        with open(file, "rb") as f:
            source = f.read()
    # The text Tantalus decoded (its coding line honoured), compiled under the file's name for tracebacks.
    code = compile(source, file, "exec")
    scopes = _Scopes()
    g = {"scope": scopes, "early": early, "late": late, "include": include, "ModifyList": ModifyList,
         "InvalidPackageError": InvalidPackageError}
    exec(code, g)
    excluded = ("scope", "InvalidPackageError", "__builtins__", "early", "late", "include", "ModifyList")
    data = {}
    for k, v in g.items():
        if k in excluded or getattr(builtins, k, data) is v:
            continue
        data[k] = v
    data.update(scopes.to_dict())
    tree = ast.parse(source, file)
    lines = _assignment_lines(tree)
    nodes = _function_nodes(tree)
    objects = req.get("early_objects", {})

    def process(value):
        if isinstance(value, dict):
            for k, v in list(value.items()):
                value[k] = process(v)
            return value
        if isinstance(value, types.FunctionType):
            if hasattr(value, "_early"):
                fn = types.FunctionType(value.__code__, value.__globals__.copy(), value.__name__,
                                        value.__defaults__, value.__closure__)
                fn.__globals__["this"] = _EarlyThis(data)
                fn.__globals__.update(objects)
                nargs = value.__code__.co_argcount + value.__code__.co_kwonlyargcount
                if nargs not in (0, 1):
                    raise ResourceError("@early decorated function must take zero or one args only")
                return process(fn(data) if nargs else fn())
        return value

    data = process(data)
    kept = {}

    def keep(fn):
        late_bound = hasattr(fn, "_late")
        # Rez keeps @late and rex functions, and preprocess for the build step; other functions are dropped
        if not late_bound and fn.__name__ not in REX_KEYS and fn.__name__ != "preprocess":
            return None
        if id(fn) not in kept:
            kept[id(fn)] = _keep(fn, file, nodes, late_bound)
        return kept[id(fn)]

    def trim(d, top):
        out = []
        for k, v in d.items():
            if isinstance(k, str) and k.startswith("__"):
                continue
            if isinstance(v, types.ModuleType) or isinstance(v, (types.BuiltinFunctionType, type)):
                continue
            if isinstance(v, types.FunctionType):
                enc = keep(v)
                if enc is None:
                    continue
                out.append([k, enc])
                continue
            if isinstance(v, dict):
                out.append([k, {"d": trim(v, False)}])
                continue
            out.append([k, _encode(v, "'%s'" % k if top else repr(k), keep)])
        return out

    return {"values": trim(data, True), "lines": lines}


# -- calling a kept function with Tantalus's rex bindings -------------------------

_exception_types = {}


def _exception(name):
    t = getattr(builtins, name, None)
    if isinstance(t, type) and issubclass(t, BaseException):
        return t
    if name not in _exception_types:
        _exception_types[name] = type(str(name), (Exception,), {})
    return _exception_types[name]


class _Call(object):
    """The call in progress: its file (for the line of each callback) and the names its code has set."""
    file = None
    namespace = None
    sent = {}


def _line():
    f = sys._getframe(2)
    while f is not None and f.f_code.co_filename != _Call.file:
        f = f.f_back
    return f.f_lineno if f is not None else None


def _namespace_delta():
    ns = _Call.namespace
    if ns is None:
        return None
    delta = {}
    for k, v in ns.items():
        if k.startswith("__") or not (v is None or isinstance(v, (bool, str, int, float))):
            continue
        if k in _Call.sent and _Call.sent[k] is v:
            continue
        delta[k] = _encode(v, k)
        _Call.sent[k] = v
    return delta or None


def _callback(op, *args):
    msg = {"cb": op, "args": [_encode(a, "argument", lenient=True) for a in args], "line": _line()}
    ns = _namespace_delta()
    if ns:
        msg["ns"] = ns
    _send(msg)
    answer = _receive()
    while "op" in answer:
        # answering, Tantalus needed CPython again (this.tools of an @late tools in commands): serve it first
        _serve(answer)
        answer = _receive()
    if "abort" in answer:
        raise _Abort()
    if "exc" in answer:
        raise _exception(answer["exc"]["type"])(answer["exc"]["message"])
    return _decode(answer["ret"])


class _Remote(object):
    """An object that lives in Tantalus (env, this, resolve, setenv...): every use is a question to it."""
    __slots__ = ("_h", "_ty")

    def __init__(self, h, ty):
        object.__setattr__(self, "_h", h)
        object.__setattr__(self, "_ty", ty)

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return _callback("getattr", self, name)

    def __setattr__(self, name, value):
        _callback("setattr", self, name, value)

    def __delattr__(self, name):
        _callback("delattr", self, name)

    def __call__(self, *args, **kwargs):
        return _callback("call", self, list(args), kwargs)

    def __getitem__(self, key):
        return _callback("getitem", self, key)

    def __setitem__(self, key, value):
        _callback("setitem", self, key, value)

    def __delitem__(self, key):
        _callback("delitem", self, key)

    def __contains__(self, item):
        return _callback("contains", self, item)

    def __iter__(self):
        return iter(_callback("iter", self))

    def __len__(self):
        return _callback("len", self)

    def __bool__(self):
        return _callback("bool", self)

    def __str__(self):
        return _callback("str", self)

    def __repr__(self):
        return _callback("repr", self)

    def __format__(self, spec):
        return format(_callback("str", self), spec)

    def __hash__(self):
        return hash(_callback("str", self))

    def __eq__(self, other):
        return _callback("compare", "Eq", self, other)

    def __ne__(self, other):
        return _callback("compare", "NotEq", self, other)

    def __lt__(self, other):
        return _callback("compare", "Lt", self, other)

    def __le__(self, other):
        return _callback("compare", "LtE", self, other)

    def __gt__(self, other):
        return _callback("compare", "Gt", self, other)

    def __ge__(self, other):
        return _callback("compare", "GtE", self, other)

    def __add__(self, other):
        return _callback("binop", "Add", self, other)

    def __radd__(self, other):
        return _callback("binop", "Add", other, self)


def _decode(v):
    if isinstance(v, list):
        return [_decode(x) for x in v]
    if not isinstance(v, dict):
        return v
    if "h" in v:
        return _Remote(v["h"], v.get("ty"))
    if "t" in v:
        return tuple(_decode(x) for x in v["t"])
    if "d" in v:
        return dict((_decode(k), _decode(x)) for k, x in v["d"])
    if "s" in v:
        return set(_decode(x) for x in v["s"])
    if "f" in v:
        return float(v["f"])
    if "i" in v:
        return int(v["i"])
    raise ValueError("unknown value %r" % (v,))


class _Process:
    """The process a rex function is to see (an image's capture: the image's environment and working
    directory, not the build host's), as the built-in evaluator's host answers os.environ and
    os.getcwd(); the real ones come back afterwards, for the next load."""

    def __init__(self, process):
        self.process = process

    def __enter__(self):
        if self.process is None:
            return self
        self.saved = (dict(os.environ), os.getcwd)
        os.environ.clear()
        os.environ.update(self.process["environ"])
        cwd = self.process["cwd"]
        os.getcwd = lambda: cwd
        self.tests = {}
        if self.process.get("locate"):
            # os.path's file tests answer for that process's files: Tantalus says where their content is here
            for name in _FILE_TESTS:
                test = self.tests[name] = getattr(os.path, name)
                setattr(os.path, name, _in_process(test))
        return self

    def __exit__(self, *exc):
        if self.process is not None:
            environ, os.getcwd = self.saved
            os.environ.clear()
            os.environ.update(environ)
            for name, test in self.tests.items():
                setattr(os.path, name, test)
        return False


_FILE_TESTS = ("exists", "lexists", "isfile", "isdir", "islink")


def _in_process(test):
    def located(path):
        if not isinstance(path, (str, os.PathLike)):
            return test(path)  # a file descriptor, bytes: asked as given
        p = os.fspath(path)
        if isinstance(p, str):
            p = _callback("locate", p if p.startswith("/") else os.path.join(os.getcwd(), p))
        return test(p)
    return located


def _run(req):
    with _Process(req.get("process")):
        return _run_in(req)


def _run_in(req):
    fid = req["fn"]
    fn = _functions[fid]
    g = dict((k, _decode(v)) for k, v in req["globals"])
    _Call.file = fn.__code__.co_filename
    _Call.sent = dict(g)
    if req["body"] and fid in _bodies:
        _Call.namespace = g
        exec(_bodies[fid], g)
        return None
    _Call.namespace = None
    f = types.FunctionType(fn.__code__, g, fn.__name__, fn.__defaults__, fn.__closure__)
    args = [_decode(a) for a in req.get("args", [])]
    return _encode(f(*args), "the value returned")


def _located(exc, file):
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == file:
            line = tb.tb_lineno
        tb = tb.tb_next
    if isinstance(exc, SyntaxError) and exc.filename == file:
        line = exc.lineno
    return line


def _serve(req):
    file = req.get("file") or (_functions[req["fn"]].__code__.co_filename if "fn" in req else None)
    saved = (_Call.file, _Call.namespace, _Call.sent)
    try:
        result = _load(req) if req["op"] == "load" else _run(req)
        _send({"ok": result})
    except _Abort:
        _send({"aborted": True})
    except _Refusal as e:
        _send({"refused": str(e), "line": _located(e, file)})
    except BaseException as e:
        _send({"error": {"type": type(e).__name__, "message": str(e), "line": _located(e, file)}})
    finally:
        _Call.file, _Call.namespace, _Call.sent = saved


# The first line says which Python this is; Tantalus refuses one older than 3.7 in a sentence.
_send({"ready": list(sys.version_info[:3])})
while True:
    _serve(_receive())
`;
