// Writes to stdout and stderr.
exports.handler = async (event) => {
  console.log("hello from", event.name);
  console.error("to stderr");
  return "logged";
};
