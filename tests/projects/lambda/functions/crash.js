// Exits the worker process mid-invocation when asked to.
exports.handler = async (event) => {
  if (event.crash ?? event.arguments?.crash) process.exit(3);
  return { pid: process.pid };
};
