// Tailwind CSS v4 runs as a PostCSS plugin; Turbopack picks this file up.
export default {
  plugins: {
    "@tailwindcss/postcss": {},
  },
};
