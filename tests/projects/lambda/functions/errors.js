// Errors thrown (synchronously) and rejected, with built-in and custom names.
class PaymentDeclined extends Error {
  constructor(message) {
    super(message);
    this.name = "PaymentDeclined";
  }
}

exports.handler = (event) => {
  switch (event.arguments?.kind ?? event.kind) {
    case "custom":
      throw new PaymentDeclined("card declined");
    case "type": {
      const notAFunction = undefined;
      return notAFunction();
    }
    case "reject":
      return Promise.reject(new Error("rejected"));
    case "unauthorized": {
      const err = new Error("nope");
      err.name = "UnauthorizedException";
      throw err;
    }
    default:
      return "ok";
  }
};
