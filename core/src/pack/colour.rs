//! A band level's colour, read when the pack loads: `#rrggbb`, `#rgb` or a
//! CSS colour name. Anything else is a located error, never silently
//! dropped from a report.

use std::fmt;

/// An sRGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Colour {
    /// Red, 0–255.
    pub r: u8,
    /// Green, 0–255.
    pub g: u8,
    /// Blue, 0–255.
    pub b: u8,
}

impl Colour {
    /// Reads `#rrggbb`, `#rgb` or a CSS colour name (any case, surrounding
    /// spaces ignored).
    ///
    /// ```
    /// use semaforo_core::Colour;
    /// assert_eq!(Colour::parse("#2e7d32").unwrap().to_string(), "#2e7d32");
    /// assert_eq!(Colour::parse("Green").unwrap().to_string(), "#008000");
    /// assert_eq!(Colour::parse("#f00").unwrap().to_string(), "#ff0000");
    /// assert!(Colour::parse("#zzz").is_err());
    /// ```
    ///
    /// # Errors
    /// What the text is not, in one sentence.
    pub fn parse(text: &str) -> Result<Colour, String> {
        let trimmed = text.trim();
        if let Some(hex) = trimmed.strip_prefix('#') {
            let digits: Option<Vec<u8>> = hex
                .chars()
                .map(|c| c.to_digit(16).and_then(|d| u8::try_from(d).ok()))
                .collect();
            return match digits.as_deref() {
                Some([r, g, b]) => Ok(Colour {
                    r: r * 17,
                    g: g * 17,
                    b: b * 17,
                }),
                Some([r1, r2, g1, g2, b1, b2]) => Ok(Colour {
                    r: r1 * 16 + r2,
                    g: g1 * 16 + g2,
                    b: b1 * 16 + b2,
                }),
                _ => Err(format!(
                    "colour `{text}` is not `#rrggbb` or `#rgb` (hexadecimal digits 0-9, a-f)"
                )),
            };
        }
        let wanted = trimmed.to_ascii_lowercase();
        let mut words = CSS_COLOURS.split_ascii_whitespace();
        while let (Some(name), Some(hex)) = (words.next(), words.next()) {
            if name == wanted {
                return Colour::parse(&format!("#{hex}"));
            }
        }
        Err(format!(
            "colour `{text}` is neither `#rrggbb` nor a CSS colour name"
        ))
    }
}

impl Colour {
    /// White, for text on dark fills.
    pub const WHITE: Colour = Colour {
        r: 255,
        g: 255,
        b: 255,
    };
    /// Near-black (`#111111`), for text on light fills.
    pub const INK: Colour = Colour {
        r: 0x11,
        g: 0x11,
        b: 0x11,
    };

    /// The text colour readable on this fill — [`Colour::WHITE`] or
    /// [`Colour::INK`], whichever contrasts more by WCAG 2's relative
    /// luminance. The one rule every report (HTML, XLSX) uses for text on a
    /// band colour. (Binary floats are used here for the luminance of a
    /// colour only, never for a value.)
    ///
    /// ```
    /// use semaforo_core::Colour;
    /// assert_eq!(Colour::parse("#2e7d32").unwrap().text_on(), Colour::WHITE);
    /// assert_eq!(Colour::parse("#f9a825").unwrap().text_on(), Colour::INK);
    /// ```
    #[must_use]
    pub fn text_on(self) -> Colour {
        let linear = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.040_45 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        let luminance = 0.2126 * linear(self.r) + 0.7152 * linear(self.g) + 0.0722 * linear(self.b);
        // Contrast with white is 1.05 / (L + 0.05); with black, (L + 0.05) / 0.05.
        if 1.05 / (luminance + 0.05) >= (luminance + 0.05) / 0.05 {
            Colour::WHITE
        } else {
            Colour::INK
        }
    }

    /// `0xRRGGBB`, as spreadsheet writers take a colour.
    #[must_use]
    pub fn rgb(self) -> u32 {
        u32::from(self.r) << 16 | u32::from(self.g) << 8 | u32::from(self.b)
    }
}

impl fmt::Display for Colour {
    /// `#rrggbb`, lower case.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{:02x}{:02x}{:02x}", self.r, self.g, self.b)
    }
}

/// The CSS named colours, name then hex, one pair after another.
const CSS_COLOURS: &str = "aliceblue f0f8ff antiquewhite faebd7 aqua 00ffff aquamarine 7fffd4 azure f0ffff \
beige f5f5dc bisque ffe4c4 black 000000 blanchedalmond ffebcd blue 0000ff blueviolet 8a2be2 brown a52a2a \
burlywood deb887 cadetblue 5f9ea0 chartreuse 7fff00 chocolate d2691e coral ff7f50 cornflowerblue 6495ed \
cornsilk fff8dc crimson dc143c cyan 00ffff darkblue 00008b darkcyan 008b8b darkgoldenrod b8860b \
darkgray a9a9a9 darkgreen 006400 darkgrey a9a9a9 darkkhaki bdb76b darkmagenta 8b008b darkolivegreen 556b2f \
darkorange ff8c00 darkorchid 9932cc darkred 8b0000 darksalmon e9967a darkseagreen 8fbc8f darkslateblue 483d8b \
darkslategray 2f4f4f darkslategrey 2f4f4f darkturquoise 00ced1 darkviolet 9400d3 deeppink ff1493 \
deepskyblue 00bfff dimgray 696969 dimgrey 696969 dodgerblue 1e90ff firebrick b22222 floralwhite fffaf0 \
forestgreen 228b22 fuchsia ff00ff gainsboro dcdcdc ghostwhite f8f8ff gold ffd700 goldenrod daa520 gray 808080 \
green 008000 greenyellow adff2f grey 808080 honeydew f0fff0 hotpink ff69b4 indianred cd5c5c indigo 4b0082 \
ivory fffff0 khaki f0e68c lavender e6e6fa lavenderblush fff0f5 lawngreen 7cfc00 lemonchiffon fffacd \
lightblue add8e6 lightcoral f08080 lightcyan e0ffff lightgoldenrodyellow fafad2 lightgray d3d3d3 \
lightgreen 90ee90 lightgrey d3d3d3 lightpink ffb6c1 lightsalmon ffa07a lightseagreen 20b2aa \
lightskyblue 87cefa lightslategray 778899 lightslategrey 778899 lightsteelblue b0c4de lightyellow ffffe0 \
lime 00ff00 limegreen 32cd32 linen faf0e6 magenta ff00ff maroon 800000 mediumaquamarine 66cdaa \
mediumblue 0000cd mediumorchid ba55d3 mediumpurple 9370db mediumseagreen 3cb371 mediumslateblue 7b68ee \
mediumspringgreen 00fa9a mediumturquoise 48d1cc mediumvioletred c71585 midnightblue 191970 mintcream f5fffa \
mistyrose ffe4e1 moccasin ffe4b5 navajowhite ffdead navy 000080 oldlace fdf5e6 olive 808000 olivedrab 6b8e23 \
orange ffa500 orangered ff4500 orchid da70d6 palegoldenrod eee8aa palegreen 98fb98 paleturquoise afeeee \
palevioletred db7093 papayawhip ffefd5 peachpuff ffdab9 peru cd853f pink ffc0cb plum dda0dd powderblue b0e0e6 \
purple 800080 rebeccapurple 663399 red ff0000 rosybrown bc8f8f royalblue 4169e1 saddlebrown 8b4513 \
salmon fa8072 sandybrown f4a460 seagreen 2e8b57 seashell fff5ee sienna a0522d silver c0c0c0 skyblue 87ceeb \
slateblue 6a5acd slategray 708090 slategrey 708090 snow fffafa springgreen 00ff7f steelblue 4682b4 tan d2b48c \
teal 008080 thistle d8bfd8 tomato ff6347 turquoise 40e0d0 violet ee82ee wheat f5deb3 white ffffff \
whitesmoke f5f5f5 yellow ffff00 yellowgreen 9acd32";

#[cfg(test)]
mod tests {
    #[test]
    fn text_on_a_band_colour_is_white_on_dark_and_ink_on_light() {
        let on = |hex: &str| Colour::parse(hex).unwrap().text_on();
        for dark in ["#2e7d32", "#c62828", "#000000", "navy"] {
            assert_eq!(on(dark), Colour::WHITE, "{dark}");
        }
        for light in ["#f9a825", "#ffff00", "#ffffff", "#c8e6c9"] {
            assert_eq!(on(light), Colour::INK, "{light}");
        }
    }

    use super::*;

    #[test]
    fn every_form_reads_and_prints_as_rrggbb() {
        assert_eq!(Colour::parse(" #2E7D32 ").unwrap().to_string(), "#2e7d32");
        assert_eq!(Colour::parse("#abc").unwrap().to_string(), "#aabbcc");
        assert_eq!(
            Colour::parse("RebeccaPurple").unwrap().to_string(),
            "#663399"
        );
        for bad in [
            "#zzz",
            "#12345",
            "",
            "#",
            "greenish",
            "#1234567",
            "rgb(1,2,3)",
        ] {
            assert!(Colour::parse(bad).is_err(), "{bad}");
        }
    }
}
