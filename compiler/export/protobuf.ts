// Protocol Buffers wire format, the part ONNX files need: varints, 32-bit floats and
// length-delimited fields (strings, bytes, nested messages, packed arrays). Browser-safe.
// Hand-written rather than protobufjs: see docs/moving-models.md for the bundle-size figures.
import { NetcError } from "../../runtime/errors.js";

/** Wire types: 0 varint, 1 fixed 64-bit, 2 length-delimited, 5 fixed 32-bit. */
const Wire = { varint: 0, fixed64: 1, bytes: 2, fixed32: 5 } as const;
type WireType = (typeof Wire)[keyof typeof Wire];

const utf8 = new TextEncoder();

/** Writes one message; nested messages are written by a writer of their own, then copied in. */
export class ProtoWriter {
  private buffer = new Uint8Array(256);
  private length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.length + n) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
  }

  private byte(b: number): void {
    this.reserve(1);
    this.buffer[this.length++] = b;
  }

  /**
   * An unsigned LEB128 of the value's 64-bit two's complement: a negative int64 takes ten bytes.
   * (The WASM encoder's LEB128 is 32-bit, signed for constants: not this encoding.)
   */
  private rawVarint(value: number): void {
    if (!Number.isSafeInteger(value))
      throw new RangeError(`varint: ${value} is not a safe integer`);
    if (value >= 0 && value < 2 ** 31) {
      let x = value;
      while (x >= 0x80) {
        this.byte((x & 0x7f) | 0x80);
        x >>>= 7;
      }
      this.byte(x);
      return;
    }
    let x = BigInt.asUintN(64, BigInt(value));
    while (x >= 0x80n) {
      this.byte(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.byte(Number(x));
  }

  private tag(field: number, wire: WireType): void {
    this.rawVarint(field * 8 + wire);
  }

  varint(field: number, value: number): this {
    this.tag(field, Wire.varint);
    this.rawVarint(value);
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, Wire.fixed32);
    this.reserve(4);
    new DataView(this.buffer.buffer).setFloat32(this.length, value, true);
    this.length += 4;
    return this;
  }

  bytes(field: number, data: Uint8Array): this {
    this.tag(field, Wire.bytes);
    this.rawVarint(data.length);
    this.reserve(data.length);
    this.buffer.set(data, this.length);
    this.length += data.length;
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, utf8.encode(s));
  }

  message(field: number, write: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    write(inner);
    return this.bytes(field, inner.finish());
  }

  /** A packed repeated int64 (or int32, enum) field. */
  packed(field: number, values: readonly number[]): this {
    const inner = new ProtoWriter();
    for (const v of values) inner.rawVarint(v);
    return this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}

/** One field as read: its number, and its value by wire type. */
export type Field =
  | { field: number; wire: 0 | 1 | 5; value: number }
  | { field: number; wire: 2; value: Uint8Array; offset: number };
export type BytesField = Field & { wire: 2 };

const utf8Decoder = new TextDecoder("utf-8", { fatal: false });

/**
 * Reads a message's fields in order. Every failure is a NetcError naming `source` and the byte
 * offset in the whole file (`base` is where this message starts in it).
 */
export class ProtoReader {
  private at = 0;
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly source: string,
    private readonly base = 0,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(what: string, at = this.at): never {
    throw new NetcError(`${this.source}: not a valid ONNX file: ${what} at byte ${this.base + at}`);
  }

  /** A varint as a signed 64-bit number (int64 fields); beyond ±2^53 is refused. */
  private varint(): number {
    const start = this.at;
    let low = 0;
    let shift = 0;
    // The first four bytes fit a 32-bit integer exactly; the rest goes through BigInt.
    for (; shift < 28; shift += 7) {
      if (this.at >= this.bytes.length) this.fail("truncated varint", start);
      const b = this.bytes[this.at++]!;
      low |= (b & 0x7f) << shift;
      if (b < 0x80) return low >>> 0;
    }
    let value = BigInt(low >>> 0);
    for (let big = 28n; ; big += 7n) {
      if (big > 63n) this.fail("a varint longer than ten bytes", start);
      if (this.at >= this.bytes.length) this.fail("truncated varint", start);
      const b = this.bytes[this.at++]!;
      value |= BigInt(b & 0x7f) << big;
      if (b < 0x80) break;
    }
    const signed = BigInt.asIntN(64, value);
    if (signed > BigInt(Number.MAX_SAFE_INTEGER) || signed < BigInt(Number.MIN_SAFE_INTEGER))
      this.fail(`an integer ${signed} too large for netc`, start);
    return Number(signed);
  }

  done(): boolean {
    return this.at >= this.bytes.length;
  }

  next(): Field {
    const tagAt = this.at;
    const tag = this.varint();
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === 0) this.fail("a field numbered 0 (not a protobuf message)", tagAt);
    switch (wire) {
      case Wire.varint:
        return { field, wire: Wire.varint, value: this.varint() };
      case Wire.fixed32: {
        if (this.at + 4 > this.bytes.length) this.fail("truncated 32-bit field", tagAt);
        const value = this.view.getFloat32(this.at, true);
        this.at += 4;
        return { field, wire: Wire.fixed32, value };
      }
      case Wire.fixed64: {
        if (this.at + 8 > this.bytes.length) this.fail("truncated 64-bit field", tagAt);
        const value = this.view.getFloat64(this.at, true);
        this.at += 8;
        return { field, wire: Wire.fixed64, value };
      }
      case Wire.bytes: {
        const length = this.varint();
        const offset = this.at;
        if (length < 0 || offset + length > this.bytes.length)
          this.fail(`a field of ${length} bytes past the end of its message`, tagAt);
        this.at += length;
        return {
          field,
          wire: Wire.bytes,
          value: this.bytes.subarray(offset, offset + length),
          offset,
        };
      }
      default:
        return this.fail(`wire type ${wire} (groups are not used by ONNX)`, tagAt);
    }
  }

  /** A reader of a nested message, offsets still counted from the file's start. */
  nested(f: BytesField): ProtoReader {
    return new ProtoReader(f.value, this.source, this.base + f.offset);
  }

  text(f: BytesField): string {
    return utf8Decoder.decode(f.value);
  }

  /** A repeated integer field, packed (one bytes field) or not (one varint). */
  ints(f: Field): number[] {
    if (f.wire === Wire.varint) return [f.value];
    if (f.wire !== Wire.bytes) return this.fail(`field ${f.field}: not an integer list`);
    const inner = this.nested(f);
    const out: number[] = [];
    while (!inner.done()) out.push(inner.varint());
    return out;
  }

  /** A repeated float field, packed or not. */
  floats(f: Field): number[] {
    if (f.wire === Wire.fixed32) return [f.value];
    if (f.wire !== Wire.bytes) return this.fail(`field ${f.field}: not a float list`);
    if (f.value.length % 4 !== 0)
      this.fail(`field ${f.field}: packed floats of ${f.value.length} bytes`, f.offset);
    const view = new DataView(f.value.buffer, f.value.byteOffset, f.value.byteLength);
    return Array.from({ length: f.value.length / 4 }, (_, i) => view.getFloat32(i * 4, true));
  }
}
