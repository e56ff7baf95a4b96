// Tests read JSON answers whose shape they then assert; typing them loosely keeps tests short.
declare global {
  interface Response {
    json(): Promise<any>;
  }
}

export {};
