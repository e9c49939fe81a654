// ES module handler.
export const handler = async (event) => ({ event, module: "esm" });
