// The demo's payment Lambda, as the serverless-airline sample charges a
// booking through its payment service. Deterministic and offline: a token
// that starts with `tok_decline` is declined, any other is charged.
const crypto = require("node:crypto");

class PaymentDeclined extends Error {
  constructor(message) {
    super(message);
    this.name = "PaymentDeclined";
  }
}

exports.handler = async (event) => {
  const { paymentToken, amount, currency, customer, bookingId } = event;
  if (typeof paymentToken !== "string" || paymentToken.length === 0) {
    throw new PaymentDeclined("A payment token is required.");
  }
  if (paymentToken.startsWith("tok_decline")) {
    throw new PaymentDeclined("Your card was declined.");
  }
  const chargeId =
    "ch_" +
    crypto
      .createHash("sha256")
      .update(`${paymentToken}:${bookingId}:${amount}`)
      .digest("hex")
      .slice(0, 24);
  return { chargeId, status: "CHARGED", amount, currency, customer };
};
