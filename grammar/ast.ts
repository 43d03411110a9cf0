// The abstract syntax tree of a `.net` file: every node carries its source span.

/** A half-open range of character offsets into the source text. */
export interface Span {
  pos: number;
  end: number;
}

export interface Ident {
  name: string;
  range: Span;
}

export interface NetFile {
  kind: "File";
  decls: Decl[];
  comments: Comment[];
  range: Span;
}

export interface Comment {
  text: string;
  range: Span;
}

export type Decl = ModelDecl | BlockDecl | CriterionDecl | TrainDecl;

/**
 * Set on a model or block whose `{` is missing, or on a block whose parameter list has a syntax
 * error: it is not checked further (the syntax error is already reported).
 */
interface Recovered {
  recovered?: true;
}

export interface ModelDecl extends Recovered {
  kind: "Model";
  name: Ident;
  body: Stmt[];
  range: Span;
}

export interface BlockParam {
  name: Ident;
  default?: Expr;
}

export interface BlockDecl extends Recovered {
  kind: "Block";
  name: Ident;
  params: BlockParam[];
  body: Stmt[];
  range: Span;
}

export interface CriterionDecl {
  kind: "Criterion";
  expr: Expr;
  range: Span;
}

export interface Setting {
  key: Ident;
  value: Expr;
  range: Span;
}

export interface TrainDecl {
  kind: "Train";
  settings: Setting[];
  range: Span;
}

export type Stmt = InputStmt | OutputStmt | BindStmt | ChainStmt;

export interface InputStmt {
  kind: "Input";
  name: Ident;
  shape: Expr;
  range: Span;
}

export interface OutputStmt {
  kind: "Output";
  names: Ident[];
  range: Span;
}

/** `name = a -> B -> C` */
export interface BindStmt {
  kind: "Bind";
  name: Ident;
  value: Expr;
  range: Span;
}

/** A stack line: `conv1: SpatialConvolution(6, kernel=5) -> ReLU` */
export interface ChainStmt {
  kind: "Chain";
  value: Expr;
  range: Span;
}

export type Expr =
  NumberLit | BoolLit | NameRef | Call | Tuple | Binary | Negate | Chain | Labeled | Missing;

export interface NumberLit {
  kind: "Number";
  value: number;
  isInteger: boolean;
  range: Span;
}

export interface BoolLit {
  kind: "Bool";
  value: boolean;
  range: Span;
}

/** A bare name: a value, a block parameter, or a layer used without arguments. */
export interface NameRef {
  kind: "Name";
  name: string;
  range: Span;
}

export interface Arg {
  name?: Ident;
  value: Expr;
  range: Span;
}

export interface Call {
  kind: "Call";
  callee: Ident;
  args: Arg[];
  /** Span of the parenthesised argument list. */
  argsRange: Span;
  /**
   * The parser recovered from a syntax error in the argument list (a missing `)`, say):
   * where the arguments end is a guess. The error is already reported.
   */
  recovered?: true;
  range: Span;
}

export interface Tuple {
  kind: "Tuple";
  items: Expr[];
  range: Span;
}

export interface Binary {
  kind: "Binary";
  op: "+" | "-" | "*" | "/";
  left: Expr;
  right: Expr;
  range: Span;
}

/** `-x`, or `- - x` when `count` is 2: a run of signs is one node, however long. */
export interface Negate {
  kind: "Negate";
  count: number;
  operand: Expr;
  range: Span;
}

/** `a -> B -> C`: at least two steps. */
export interface Chain {
  kind: "Chain";
  steps: Expr[];
  range: Span;
}

/** `label: Layer(...)` inside a chain. */
export interface Labeled {
  kind: "Labeled";
  label: Ident;
  expr: Expr;
  range: Span;
}

/** Stands where the parser recovered from a syntax error; already reported. */
export interface Missing {
  kind: "Missing";
  range: Span;
}
