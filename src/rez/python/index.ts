/**
 * The safe Python subset used by Rez package definitions (package.py) and rex
 * commands. Parse with parseModule, run with an Interpreter, inject host
 * objects (subclasses of HostObject) and TypeScript functions (PyBuiltin) as
 * globals.
 *
 * Decisions worth knowing:
 * - print() is allowed and writes to InterpreterOptions.print (discarded by
 *   default): package authors leave debugging prints in, and Rez runs them.
 * - try/except/else/finally catch Python-level exceptions only (PyException);
 *   forbidden constructs, the step limit and host failures cannot be caught.
 * - Sets iterate in insertion order (CPython's order is hash-based and, for
 *   strings, randomised per process).
 * - The scope of names follows Python's compile-time rules (locals, closures,
 *   global/nonlocal); comprehensions have their own scope.
 */
export { parseModule, type ParsedModule, type ParseOptions } from "./ast.js";
export { Interpreter, type InterpreterOptions, type ExecModuleOptions } from "./interpreter.js";
export { PythonError, notAllowedMessage } from "./errors.js";
export {
  PyModule,
  realPythonHost,
  targetPythonHost,
  outsideSubsetMessage,
  type PythonHost,
  type HostQuery,
  type Importer,
} from "./modules.js";
export { BUILTINS, EXCEPTION, exceptionType, instantiateException } from "./builtins.js";
export { formatTemplate, formatValue, argsLookup, percentFormat, type FieldLookup } from "./format.js";
export { pyStr, pyRepr, floatRepr, strRepr } from "./repr.js";
export { truthy, iterate, length, contains, orderCompare } from "./ops.js";
export { toJS, fromJS, type JSValue } from "./convert.js";
export {
  HostObject,
  PyBuiltin,
  PyDict,
  PyDictView,
  PyException,
  PyExceptionType,
  PyExceptionValue,
  PyFloat,
  PyFunction,
  PyIterator,
  PyRange,
  PySet,
  PyTuple,
  PyType,
  pyEquals,
  typeName,
  type BuiltinImpl,
  type CallContext,
  type FrameAccess,
  type FunctionMark,
  type PyCallable,
  type PyValue,
} from "./values.js";
