// A direct, batched Lambda resolver for Flight.weather: AppSync sends one
// context event per flight (up to maxBatchSize at once) and expects one
// forecast per event, in order. The forecast is a deterministic fake from
// the airport code and the day, so the demo and its tests are repeatable.
const SUMMARIES = ["Sunny", "Partly cloudy", "Cloudy", "Light rain", "Showers", "Windy", "Fog"];

function hash(text) {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 16777619) >>> 0;
  }
  return h;
}

function forecast(airport, date) {
  const h = hash(`${airport}:${date}`);
  return {
    airport,
    date,
    summary: SUMMARIES[h % SUMMARIES.length],
    temperatureC: (h >>> 3) % 35 - 5,
    precipitationChance: (h >>> 9) % 101,
  };
}

exports.handler = async (events) =>
  events.map(({ source }) => {
    const date = String(source.departureDate).slice(0, 10);
    return forecast(source.departureAirportCode, date);
  });
