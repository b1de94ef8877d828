// A protobuf wire writer for the encoder's hot path (lists of a thousand pods): one growing
// buffer, no per-field allocation. protobufjs's Writer queues an operation object for every
// value and every fork, which left the garbage collector with most of an encode's time. The API
// is the subset of protobufjs's that codec.ts uses, with its semantics: varints of 32- and 64-bit
// two's complement (a negative int32 takes ten bytes), little-endian doubles and floats,
// length-delimited strings and bytes, and fork()/ldelim() around a nested message. A fork
// reserves one length byte; a message of 128 bytes or more moves its bytes up to make room.

export class FastWriter {
  private buf: Buffer;
  private pos = 0;
  private readonly forks: number[] = [];

  constructor(initial = 1024) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** An unsigned varint of v (0 <= v < 2^53). */
  private varint(v: number): void {
    this.ensure(10);
    const b = this.buf;
    let p = this.pos;
    while (v > 0x7fffffff) {
      b[p++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    while (v > 0x7f) {
      b[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    b[p++] = v;
    this.pos = p;
  }

  /** A negative number as Go writes it: the 64-bit two's complement, ten bytes. */
  private negative(v: number): void {
    let u = BigInt.asUintN(64, BigInt(Math.trunc(v)));
    this.ensure(10);
    while (u > 0x7fn) {
      this.buf[this.pos++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    this.buf[this.pos++] = Number(u);
  }

  uint32(v: number): this {
    this.varint(v >>> 0);
    return this;
  }

  int32(v: number): this {
    if (v < 0) this.negative(v);
    else this.varint(v | 0);
    return this;
  }

  int64(v: number): this {
    if (v < 0) this.negative(v);
    else this.varint(v);
    return this;
  }

  bool(v: boolean): this {
    this.ensure(1);
    this.buf[this.pos++] = v ? 1 : 0;
    return this;
  }

  double(v: number): this {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
    return this;
  }

  float(v: number): this {
    this.ensure(4);
    this.buf.writeFloatLE(v, this.pos);
    this.pos += 4;
    return this;
  }

  string(s: string): this {
    const n = s.length;
    if (n < 128) {
      // ASCII (names, labels, images...): the length is the char count, copied by hand.
      this.ensure(n + 1);
      const b = this.buf;
      const start = this.pos;
      let p = start + 1;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        b[p++] = c;
      }
      if (i === n) {
        b[start] = n;
        this.pos = p;
        return this;
      }
    }
    const len = Buffer.byteLength(s, "utf8");
    this.varint(len);
    this.ensure(len);
    this.buf.write(s, this.pos, len, "utf8");
    this.pos += len;
    return this;
  }

  bytes(v: Uint8Array): this {
    this.varint(v.length);
    this.ensure(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
    return this;
  }

  /** Starts a length-delimited nested message; ldelim() ends it. */
  fork(): this {
    this.ensure(1);
    this.forks.push(this.pos);
    this.pos += 1;
    return this;
  }

  ldelim(): this {
    const start = this.forks.pop();
    if (start === undefined) throw new Error("ldelim without fork");
    const len = this.pos - start - 1;
    if (len < 128) {
      this.buf[start] = len;
      return this;
    }
    let size = 1;
    for (let v = len; v > 0x7f; v = Math.floor(v / 128)) size++;
    this.ensure(size - 1);
    this.buf.copyWithin(start + size, start + 1, this.pos);
    const end = this.pos + size - 1;
    this.pos = start;
    this.varint(len);
    this.pos = end;
    return this;
  }

  /** How many bytes are written so far (a position for copy()). */
  get length(): number {
    return this.pos;
  }

  /** A copy of the bytes written since position start. */
  copy(start: number): Uint8Array {
    return Buffer.from(this.buf.subarray(start, this.pos));
  }

  /** The bytes written (a copy: the writer may be reused). */
  finish(): Uint8Array {
    if (this.forks.length > 0) throw new Error("finish inside a fork");
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}
