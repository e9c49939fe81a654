// Writes to stdout and stderr.
exports.handler = async (event) => {
  console.log("hello from", event.arguments?.name ?? event.name);
  console.error("to stderr");
  return "logged";
};
