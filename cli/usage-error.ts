// A mistake on the command line that commander cannot see (a target not available, flags that
// conflict): reported like a NetcError, with the usage exit status.
import { NetcError } from "../runtime/errors.js";

export class UsageError extends NetcError {}
