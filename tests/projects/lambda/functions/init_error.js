// Fails while the module loads: the runtime must report an init error.
throw new Error("boom at load");
