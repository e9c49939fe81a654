// Direct Lambda resolver returning the whole AppSync context event.
exports.handler = async (event) => event;
