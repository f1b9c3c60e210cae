/** The tool version written into contexts and image labels. Keep in step with package.json. */
export const VERSION = "0.1.0";
