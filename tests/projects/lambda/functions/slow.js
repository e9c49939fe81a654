// Sleeps for `ms` milliseconds: for timeouts and concurrency.
exports.handler = async (event) => {
  console.log("slow start");
  const ms = event.ms ?? event.arguments?.ms;
  await new Promise((resolve) => setTimeout(resolve, ms));
  return { slept: ms };
};
